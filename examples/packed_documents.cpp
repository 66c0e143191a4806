// Packed variable-length sequences: several documents concatenated into one row, each attending only to
// itself, causally (the document masking used to pre-train on packed data, e.g. Llama 3; FlexAttention's
// document mask). A mask combinator intersects the document mask with causal.
//
// With q = 0 each output is the mean of the values the query sees; with v_j = j, query i of a document
// starting at s gets (s + i) / 2: nothing from the documents before it leaks in.
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  attnkit::print_isa_report();
  std::vector<std::int64_t> const lengths{300, 45, 600, 79}; // four documents, 1024 tokens in all
  std::vector<std::int32_t> const ids = attnkit::document::segments_from_lengths(lengths);
  int const heads = 4, seq = int(ids.size()), dim = 64;
  std::vector<float> q(std::size_t(heads) * seq * dim, 0.0f), k(q.size(), 1.0f), v(q.size()), o(q.size());
  for (std::size_t t = 0; t < v.size(); ++t)
    v[t] = float(t / dim % seq); // v_j = j

  using doc_causal = attnkit::visible_if_all<attnkit::document, attnkit::causal>;
  attnkit::attention<attnkit::softmax, doc_causal> const attn({}, {}, doc_causal(attnkit::document(ids), {}));
  attn(attnkit::bhsd(q.data(), 1, heads, seq, dim), attnkit::bhsd(k.data(), 1, heads, seq, dim),
       attnkit::bhsd(v.data(), 1, heads, seq, dim), attnkit::bhsd(o.data(), 1, heads, seq, dim));

  int wrong = 0, start = 0;
  for (std::int64_t length : lengths) {
    for (int i : {start, start + int(length) - 1}) {
      float const want = 0.5f * float(start + i), got = o[std::size_t(i) * dim];
      std::printf("token %4d (document starting at %4d): output %7.2f, expected %7.2f\n", i, start, got,
                  want);
      wrong += std::fabs(got - want) > 1e-3f * (1.0f + want);
    }
    start += int(length);
  }
  return wrong;
}
