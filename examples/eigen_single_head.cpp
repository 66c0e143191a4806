// One attention head on Eigen matrices (each row a token), with the log-sum-exp.
#include <attnkit/attnkit.hpp>
#include <attnkit/interop/eigen.hpp>

#include <iostream>

int main() {
  attnkit::print_isa_report();
  attnkit::row_matrix const q = attnkit::row_matrix::Random(6, 16);
  attnkit::row_matrix const k = attnkit::row_matrix::Random(10, 16);
  attnkit::row_matrix const v = attnkit::row_matrix::Random(10, 4);
  attnkit::row_matrix o(6, 4);
  Eigen::VectorXf lse(6);

  attnkit::attention<attnkit::softmax, attnkit::causal> attn{{.scale = 0.25f}};
  attnkit::attend(attn, q, k, v, o, lse);

  std::cout << "output:\n" << o << "\nlog-sum-exp: " << lse.transpose() << "\n";
}
