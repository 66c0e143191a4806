// Times llama.cpp's CPU attention kernel, ggml_flash_attn_ext, on attnkit_bench's shapes.
//
// Optional peer comparison; the library never needs it. Built against ggml by bench/peers/build_ggml.sh
// (see bench/peers/README.md). Cases, named so that the report joins them to attnkit's:
//   ggml_fa/N:<n>/D:<d>/causal:<0|1>/threads:<t>            prefill, B 1, 8 heads, Sq = Sk = N (vs
//   BM_Softmax) ggml_decode/Sk:<n>/Hq:32/Hkv:8/D:128/threads:<t>        one query against a K/V cache (vs
//   BM_Decode)
// each with fp32 K/V, and with f16 K/V as ggml_fa_f16kv/... and ggml_decode_f16kv/... (llama.cpp's default
// cache type). Q is fp32, the output fp32, scale 1/sqrt(D). Causal is the -inf/0 fp16 mask llama.cpp passes.
// Each case: one warm-up call, then timed calls for about --min-time seconds (at least --min-reps); the
// median is reported. One persistent ggml thread pool per thread count, as llama.cpp keeps one.
#include <ggml-cpu.h>
#include <ggml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <regex>
#include <string>
#include <vector>

// Where the ggml sources came from, for the report (build_ggml.sh names the PyPI source distribution).
#ifndef ATTNKIT_GGML_SOURCE
#define ATTNKIT_GGML_SOURCE "unknown source"
#endif

namespace {

struct options {
  std::string out;
  std::string filter = ".";
  std::vector<int> threads{1, 2};
  double min_time = 0.5;
  int min_reps = 3;
  int max_reps = 200;
};

struct shape {
  std::string name;
  int queries, keys, query_heads, kv_heads, head_dim;
  bool causal;
  ggml_type kv_type;
  int threads;
  bool decode;
};

struct result {
  shape s;
  double ms;
  int reps;
};

double prefill_flops(shape const& s) {
  double const f = 4.0 * s.queries * s.keys * s.head_dim * s.query_heads;
  return s.causal ? f / 2 : f;
}

double kv_bytes(shape const& s) {
  return 2.0 * s.keys * s.kv_heads * s.head_dim * static_cast<double>(ggml_type_size(s.kv_type));
}

void fill(ggml_tensor* t, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::size_t const count = static_cast<std::size_t>(ggml_nelements(t));
  if (t->type == GGML_TYPE_F32) {
    float* data = static_cast<float*>(t->data);
    for (std::size_t i = 0; i < count; ++i)
      data[i] = normal(rng);
  } else {
    ggml_fp16_t* data = static_cast<ggml_fp16_t*>(t->data);
    for (std::size_t i = 0; i < count; ++i)
      data[i] = ggml_fp32_to_fp16(normal(rng));
  }
}

// The causal mask llama.cpp builds: 0 where key j <= query i (bottom-right, Sq = Sk here), -inf elsewhere.
void fill_causal_mask(ggml_tensor* mask, int queries, int keys) {
  ggml_fp16_t* data = static_cast<ggml_fp16_t*>(mask->data);
  ggml_fp16_t const zero = ggml_fp32_to_fp16(0.0f), hidden = ggml_fp32_to_fp16(-INFINITY);
  for (int i = 0; i < queries; ++i)
    for (int j = 0; j < keys; ++j)
      data[static_cast<std::size_t>(i) * keys + j] = j <= i + (keys - queries) ? zero : hidden;
}

result time_case(shape const& s, ggml_threadpool* pool, options const& opt) {
  std::size_t const kv_elems = static_cast<std::size_t>(s.keys) * s.kv_heads * s.head_dim;
  std::size_t const q_elems = static_cast<std::size_t>(s.queries) * s.query_heads * s.head_dim;
  std::size_t const bytes = 2 * kv_elems * ggml_type_size(s.kv_type) + 2 * q_elems * sizeof(float) +
                            (s.causal ? static_cast<std::size_t>(s.queries) * s.keys * 2 : 0) + (64u << 20);
  ggml_init_params params{bytes, nullptr, false};
  ggml_context* ctx = ggml_init(params);
  if (!ctx)
    throw std::runtime_error("ggml_init failed for " + s.name);

  ggml_tensor* q = ggml_new_tensor_4d(ctx, GGML_TYPE_F32, s.head_dim, s.queries, s.query_heads, 1);
  ggml_tensor* k = ggml_new_tensor_4d(ctx, s.kv_type, s.head_dim, s.keys, s.kv_heads, 1);
  ggml_tensor* v = ggml_new_tensor_4d(ctx, s.kv_type, s.head_dim, s.keys, s.kv_heads, 1);
  ggml_tensor* mask = s.causal ? ggml_new_tensor_2d(ctx, GGML_TYPE_F16, s.keys, s.queries) : nullptr;
  std::mt19937 rng(0);
  fill(q, rng);
  fill(k, rng);
  fill(v, rng);
  if (mask)
    fill_causal_mask(mask, s.queries, s.keys);

  float const scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  ggml_tensor* out = ggml_flash_attn_ext(ctx, q, k, v, mask, scale, 0.0f, 0.0f);
  ggml_cgraph* graph = ggml_new_graph(ctx);
  ggml_build_forward_expand(graph, out);
  ggml_cplan plan = ggml_graph_plan(graph, s.threads, pool);
  std::vector<std::uint8_t> work(plan.work_size);
  plan.work_data = work.data();

  auto call = [&] {
    if (ggml_graph_compute(graph, &plan) != GGML_STATUS_SUCCESS)
      throw std::runtime_error("ggml_graph_compute failed");
  };
  call(); // warm-up: pages touched, thread pool awake
  std::vector<double> ms;
  double spent = 0;
  while ((static_cast<int>(ms.size()) < opt.min_reps || spent < opt.min_time) &&
         static_cast<int>(ms.size()) < opt.max_reps) {
    auto const start = std::chrono::steady_clock::now();
    call();
    double const seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ms.push_back(seconds * 1e3);
    spent += seconds;
  }
  ggml_free(ctx);
  std::sort(ms.begin(), ms.end());
  return {s, ms[ms.size() / 2], static_cast<int>(ms.size())};
}

std::vector<shape> all_shapes(std::vector<int> const& threads) {
  std::vector<shape> shapes;
  for (ggml_type kv : {GGML_TYPE_F32, GGML_TYPE_F16}) {
    std::string const suffix = kv == GGML_TYPE_F16 ? "_f16kv" : "";
    for (int t : threads) {
      for (int n : {512, 1024, 2048, 4096, 8192})
        for (int d : {64, 128})
          for (int causal : {0, 1})
            shapes.push_back({"ggml_fa" + suffix + "/N:" + std::to_string(n) + "/D:" + std::to_string(d) +
                                  "/causal:" + std::to_string(causal) + "/threads:" + std::to_string(t),
                              n, n, 8, 8, d, causal == 1, kv, t, false});
      for (int sk : {4096, 16384, 65536, 262144})
        shapes.push_back({"ggml_decode" + suffix + "/Sk:" + std::to_string(sk) +
                              "/Hq:32/Hkv:8/D:128/threads:" + std::to_string(t),
                          1, sk, 32, 8, 128, false, kv, t, true});
    }
  }
  return shapes;
}

std::string json_escape(std::string const& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

void write_json(std::string const& path, std::vector<result> const& results) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f)
    throw std::runtime_error("cannot write " + path);
  std::fprintf(
      f,
      "{\n  \"context\": {\"peer\": \"ggml %s (%s)\", \"ggml_version\": \"%s\", \"ggml_commit\": \"%s\", "
      "\"avx2\": %d, \"avx512\": %d, \"f16c\": %d},\n  \"benchmarks\": [\n",
      ggml_version(), ATTNKIT_GGML_SOURCE, ggml_version(), ggml_commit(), ggml_cpu_has_avx2(),
      ggml_cpu_has_avx512(), ggml_cpu_has_f16c());
  for (std::size_t i = 0; i < results.size(); ++i) {
    result const& r = results[i];
    std::fprintf(f,
                 "    {\"name\": \"%s\", \"threads\": %d, \"kv_type\": \"%s\", \"ms\": %.6g, \"reps\": %d, ",
                 json_escape(r.s.name).c_str(), r.s.threads, ggml_type_name(r.s.kv_type), r.ms, r.reps);
    if (r.s.decode)
      std::fprintf(f, "\"kv_bytes\": %.6g, \"gbps\": %.6g}", kv_bytes(r.s), kv_bytes(r.s) / (r.ms * 1e6));
    else
      std::fprintf(f, "\"gflops\": %.6g}", prefill_flops(r.s) / (r.ms * 1e6));
    std::fprintf(f, "%s\n", i + 1 < results.size() ? "," : "");
  }
  std::fprintf(f, "  ]\n}\n");
  std::fclose(f);
  std::printf("wrote %zu cases to %s\n", results.size(), path.c_str());
}

std::vector<int> parse_threads(std::string const& list) {
  std::vector<int> threads;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t const comma = std::min(list.find(',', start), list.size());
    int const t = std::stoi(list.substr(start, comma - start));
    if (t < 1)
      throw std::invalid_argument("--threads: every count must be >= 1, got " + std::to_string(t));
    threads.push_back(t);
    start = comma + 1;
  }
  return threads;
}

options parse_args(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string const arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--out")
      opt.out = value();
    else if (arg == "--filter")
      opt.filter = value();
    else if (arg == "--threads")
      opt.threads = parse_threads(value());
    else if (arg == "--min-time")
      opt.min_time = std::stod(value());
    else if (arg == "--min-reps")
      opt.min_reps = std::stoi(value());
    else if (arg == "--max-reps")
      opt.max_reps = std::stoi(value());
    else if (arg == "-h" || arg == "--help") {
      std::printf("usage: ggml_flash_attn [--out FILE] [--filter REGEX] [--threads 1,2] [--min-time S] "
                  "[--min-reps K] [--max-reps K]\n");
      std::exit(0);
    } else
      throw std::invalid_argument("unknown argument " + arg + " (try --help)");
  }
  if (opt.min_reps < 1 || opt.max_reps < opt.min_reps)
    throw std::invalid_argument("--min-reps must be >= 1 and <= --max-reps");
  return opt;
}

} // namespace

int main(int argc, char** argv) try {
  options const opt = parse_args(argc, argv);
  std::regex const pattern(opt.filter);
  ggml_cpu_init();
  std::printf("ggml %s (%s), AVX2 %d, AVX-512 %d\n%-52s %10s %10s %5s\n", ggml_version(), ATTNKIT_GGML_SOURCE,
              ggml_cpu_has_avx2(), ggml_cpu_has_avx512(), "name", "ms", "rate", "reps");
  std::vector<result> results;
  for (int t : opt.threads) {
    ggml_threadpool_params pool_params = ggml_threadpool_params_default(t);
    ggml_threadpool* pool = ggml_threadpool_new(&pool_params);
    for (shape const& s : all_shapes({t})) {
      if (!std::regex_search(s.name, pattern))
        continue;
      result const r = time_case(s, pool, opt);
      if (s.decode)
        std::printf("%-52s %10.3f %6.2f GB/s %5d\n", s.name.c_str(), r.ms, kv_bytes(s) / (r.ms * 1e6),
                    r.reps);
      else
        std::printf("%-52s %10.3f %5.1f GFLOP/s %5d\n", s.name.c_str(), r.ms, prefill_flops(s) / (r.ms * 1e6),
                    r.reps);
      std::fflush(stdout);
      results.push_back(r);
    }
    ggml_threadpool_free(pool);
  }
  if (!opt.out.empty())
    write_json(opt.out, results);
  return 0;
} catch (std::exception const& e) {
  std::fprintf(stderr, "ggml_flash_attn: %s\n", e.what());
  return 2;
}
