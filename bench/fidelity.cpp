/// \file
/// attnkit_fidelity: what each variant's approximation costs, on a synthetic associative-recall task in the
/// spirit of Zoology's MQAR ("Zoology: Measuring and Improving Recall in Efficient Language Models"), with
/// no model. Keys and values are random; each of the last `probes` queries is a scaled copy of one earlier
/// "needle" key at a chosen distance (plus noise), so dense softmax attention returns about the needle's
/// value. For every variant and distance it reports
///   recall     the fraction of probe queries whose output is nearest (L2) to the needle's value among all
///              the values,
///   rel_error  mean over the probes of |o - o_dense| / |o_dense|, against dense causal softmax.
/// Deterministic (fixed seeds); a few seconds on 2 cores. JSON on stdout, or into --out FILE. With --check it
/// exits non-zero unless the workload does what it claims: dense softmax recalls every needle, and the
/// sliding window recalls every needle inside its window and none beyond it (a CTest smoke test).
///
/// Usage: attnkit_fidelity [--out FILE] [--seq N] [--check]

#include <attnkit/attnkit.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::int64_t dim = 64;
constexpr std::int64_t probes = 256;
/// Needle logit after the 1 / sqrt(D) scale: e^12 against ~N e^(sigma^2 / 2) for the distractors' scores,
/// whose standard deviation is 12 / sqrt(D) = 1.5, puts about 0.9 of dense softmax's weight on the needle at
/// N = 4096.
constexpr float needle_logit = 12.0f;

struct problem {
  std::int64_t seq;
  std::vector<float> q, k, v;
  auto qv() const { return attnkit::bhsd(q.data(), 1, 1, seq, dim); }
  auto kv() const { return attnkit::bhsd(k.data(), 1, 1, seq, dim); }
  auto vv() const { return attnkit::bhsd(v.data(), 1, 1, seq, dim); }
};

/// Random keys, values and queries; probe query i (the last `probes` rows) points at key i - distance.
problem make_problem(std::int64_t seq, std::int64_t distance) {
  problem p{seq, std::vector<float>(std::size_t(seq * dim)), std::vector<float>(std::size_t(seq * dim)),
            std::vector<float>(std::size_t(seq * dim))};
  std::mt19937 gen(1234);
  std::normal_distribution<float> normal;
  for (auto* x : {&p.q, &p.k, &p.v})
    for (float& e : *x)
      e = normal(gen);
  float const scale = std::sqrt(float(dim));
  for (std::int64_t i = seq - probes; i < seq; ++i) {
    float const* needle = &p.k[std::size_t((i - distance) * dim)];
    double norm2 = 0;
    for (std::int64_t d = 0; d < dim; ++d)
      norm2 += double(needle[d]) * needle[d];
    // q . k_needle / sqrt(D) = needle_logit, plus a little noise so no two probes are exact copies.
    float const a = float(needle_logit * scale / norm2);
    for (std::int64_t d = 0; d < dim; ++d)
      p.q[std::size_t(i * dim + d)] = a * needle[d] + 0.05f * normal(gen);
  }
  return p;
}

struct scores {
  double recall = 0, rel_error = 0;
};

scores measure(problem const& p, std::int64_t distance, std::vector<float> const& o,
               std::vector<float> const& dense) {
  scores s;
  for (std::int64_t i = p.seq - probes; i < p.seq; ++i) {
    float const* out = &o[std::size_t(i * dim)];
    std::int64_t nearest = -1;
    double best = INFINITY;
    for (std::int64_t j = 0; j < p.seq; ++j) {
      float const* v = &p.v[std::size_t(j * dim)];
      float d2 = 0;
      for (std::int64_t d = 0; d < dim; ++d)
        d2 += (out[d] - v[d]) * (out[d] - v[d]);
      if (d2 < best)
        best = d2, nearest = j;
    }
    s.recall += nearest == i - distance;
    double err = 0, ref = 0;
    for (std::int64_t d = 0; d < dim; ++d) {
      double const r = dense[std::size_t(i * dim + d)];
      err += (out[d] - r) * (out[d] - r);
      ref += r * r;
    }
    s.rel_error += std::sqrt(err / ref);
  }
  s.recall /= probes;
  s.rel_error /= probes;
  return s;
}

/// The block layout of a BigBird-style pattern on 64-key blocks: the block before, the own block, block 0
/// (global) and two random earlier blocks per query block.
attnkit::block_layout bigbird_layout(std::int64_t seq) {
  attnkit::block_grid const grid{.q_len = seq, .key_len = seq, .q_block = 64, .key_block = 64};
  std::int64_t const blocks = grid.q_blocks();
  std::vector<std::uint8_t> shown(std::size_t(blocks * blocks), 0);
  std::mt19937 gen(7);
  for (std::int64_t qb = 0; qb < blocks; ++qb) {
    for (std::int64_t kb : {qb - 1, qb, std::int64_t{0}})
      if (kb >= 0)
        shown[std::size_t(qb * blocks + kb)] = 1;
    for (int r = 0; r < 2; ++r)
      shown[std::size_t(qb * blocks + std::int64_t(gen() % std::uint32_t(qb + 1)))] = 1;
  }
  return attnkit::block_layout::from_block_matrix(grid, shown);
}

template <class Attention> std::vector<float> run(Attention const& attn, problem const& p) {
  std::vector<float> o(p.q.size());
  attn(p.qv(), p.kv(), p.vv(), attnkit::bhsd(o.data(), 1, 1, p.seq, dim));
  return o;
}

} // namespace

int main(int argc, char** argv) {
  std::string out_path;
  std::int64_t seq = 4096;
  bool check = false;
  for (int a = 1; a < argc; ++a) {
    std::string const arg = argv[a];
    if (arg == "--out" && a + 1 < argc)
      out_path = argv[++a];
    else if (arg == "--seq" && a + 1 < argc)
      seq = std::stoll(argv[++a]);
    else if (arg == "--check")
      check = true;
    else {
      std::cerr << "usage: attnkit_fidelity [--out FILE] [--seq N] [--check]   (unknown argument '" << arg
                << "')\n";
      return 2;
    }
  }
  if (seq < 2 * probes) {
    std::cerr << "attnkit_fidelity: --seq " << seq << " must be at least " << 2 * probes << "\n";
    return 2;
  }

  using attnkit::attention;
  using attnkit::causal;
  using attnkit::softmax;
  attention<softmax, causal> const dense;
  attention<attnkit::sigmoid, causal> const sigmoid;
  attention<softmax, attnkit::sliding_window> const window({}, {}, attnkit::sliding_window::causal(512));
  attention<softmax, attnkit::sink_window> const sinks({}, {}, attnkit::sink_window::causal(4, 512));
  attention<softmax, attnkit::block_sparse<causal>> const bigbird(
      {}, {}, attnkit::block_sparse<causal>(bigbird_layout(seq)));
  attention<attnkit::linear<attnkit::elu1>, causal> const linear;
  attnkit::moba_options const moba{.key_block = 512, .top_k = 3, .causal = true};

  std::ostringstream json;
  json << "{\n  \"context\": {\"seq\": " << seq << ", \"dim\": " << dim << ", \"probes\": " << probes
       << ", \"needle_logit\": " << needle_logit << ", \"isa\": \"" << attnkit::compiled_isa() << "\"},\n"
       << "  \"results\": [";
  bool first = true;
  int failures = 0;
  for (std::int64_t distance : {1, 16, 128, 384, 1024, 2048, 3800}) {
    if (distance > seq - probes)
      continue;
    problem const p = make_problem(seq, distance);
    std::vector<float> const reference = run(dense, p);
    attention<softmax, attnkit::block_sparse<causal>> const routed(
        {}, {}, attnkit::block_sparse<causal>(attnkit::moba_route(p.qv(), p.kv(), moba)));
    std::pair<char const*, std::vector<float>> const outputs[] = {
        {"softmax (dense, causal)", reference},
        {"sigmoid, b = -ln N", run(sigmoid, p)},
        {"sliding window 512", run(window, p)},
        {"sinks 4 + window 512", run(sinks, p)},
        {"block-sparse (BigBird-style, 64-key blocks)", run(bigbird, p)},
        {"MoBA top-3 of 512-key blocks", run(routed, p)},
        {"linear (elu + 1)", run(linear, p)},
    };
    for (auto const& [name, o] : outputs) {
      scores const s = measure(p, distance, o, reference);
      json << (first ? "\n" : ",\n") << "    {\"variant\": \"" << name << "\", \"distance\": " << distance
           << ", \"recall\": " << s.recall << ", \"rel_error\": " << s.rel_error << "}";
      first = false;
      std::string_view const variant = name;
      bool const expect_all =
          variant.starts_with("softmax") || (variant.starts_with("sliding") && distance < 512);
      bool const expect_none = variant.starts_with("sliding") && distance >= 512;
      if (check && ((expect_all && s.recall != 1.0) || (expect_none && s.recall > 0.05))) {
        std::fprintf(stderr, "attnkit_fidelity --check: %s recalls %.3f at distance %lld\n", name, s.recall,
                     (long long)distance);
        ++failures;
      }
      std::fprintf(stderr, "distance %5lld  %-45s recall %.3f  rel. error %.3g\n", (long long)distance, name,
                   s.recall, s.rel_error);
    }
  }
  json << "\n  ]\n}\n";
  if (out_path.empty()) {
    std::cout << json.str();
  } else {
    std::ofstream(out_path) << json.str();
  }
  return failures == 0 ? 0 : 1;
}
