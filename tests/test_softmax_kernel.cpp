// The fused softmax kernel against the fp64 reference, over the sizes that exercise every remainder.

#include "support/arch_sweep.hpp"
#include "support/run_case.hpp"

#include <attnkit/attnkit.hpp>

#include <catch2/catch.hpp>

#include <array>

using attnkit::test::case_shape;
using attnkit::test::layout;

namespace {

using causal_attention = attnkit::attention<attnkit::softmax, attnkit::causal>;
using full_attention = attnkit::attention<attnkit::softmax>;

constexpr std::array<std::int64_t, 7> head_dims{1, 3, 16, 64, 80, 128, 256};

} // namespace

TEST_CASE("softmax kernel: every small Sq x Sk pair, cycling head dims and masks", "[kernel][softmax]") {
  std::int64_t const q_len = GENERATE(1, 7, 63, 64, 65, 257);
  std::int64_t const key_len = GENERATE(1, 7, 63, 64, 65, 257);
  std::size_t const pick = static_cast<std::size_t>(q_len * 31 + key_len);
  case_shape const s{.batch = 1,
                     .q_heads = 2,
                     .kv_heads = 1,
                     .q_len = q_len,
                     .key_len = key_len,
                     .dim = head_dims[pick % head_dims.size()],
                     .v_dim = head_dims[(pick + 3) % head_dims.size()]};
  INFO("Sq " << q_len << " Sk " << key_len << " D " << s.dim << " Dv " << s.v_dim);
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    attnkit::test::check_random_case<Arch>(full_attention{}, s, 100);
    attnkit::test::check_random_case<Arch>(causal_attention{}, s, 200);
    attnkit::test::check_random_case<Arch>(causal_attention{{.align = attnkit::alignment::top_left}}, s, 300);
  });
}

TEST_CASE("softmax kernel: every head dim 1..256 with Dv != Dqk", "[kernel][softmax]") {
  std::int64_t const dim = GENERATE(from_range(head_dims));
  std::int64_t const v_dim = GENERATE(1, 80, 256);
  case_shape const s{
      .batch = 2, .q_heads = 4, .kv_heads = 4, .q_len = 65, .key_len = 130, .dim = dim, .v_dim = v_dim};
  INFO("D " << dim << " Dv " << v_dim);
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    attnkit::test::check_random_case<Arch>(full_attention{}, s, 400);
    attnkit::test::check_random_case<Arch>(causal_attention{}, s, 500);
  });
}

TEST_CASE("softmax kernel: long sequences", "[kernel][softmax][long]") {
  auto const [q_len, key_len] = GENERATE(table<std::int64_t, std::int64_t>(
      {{1000, 1000}, {4097, 1}, {1, 4097}, {1000, 4097}, {4097, 1000}, {4097, 4097}}));
  case_shape const s{.q_len = q_len, .key_len = key_len, .dim = 64, .v_dim = 64};
  INFO("Sq " << q_len << " Sk " << key_len);
  // One architecture is enough here (the small sweep covers all of them): the default one. The reference
  // checks sampled rows (all of them up to Sq = 140).
  attnkit::test::check_random_case_sampled<xsimd::default_arch>(full_attention{}, s, 600);
  attnkit::test::check_random_case_sampled<xsimd::default_arch>(causal_attention{}, s, 700);
  attnkit::test::check_random_case_sampled<xsimd::default_arch>(
      causal_attention{{.align = attnkit::alignment::top_left}}, s, 800);
}

TEST_CASE("softmax kernel: GQA and MQA read shared KV heads without copies", "[kernel][softmax][gqa]") {
  auto const [q_heads, kv_heads] =
      GENERATE(table<std::int64_t, std::int64_t>({{4, 1}, {8, 1}, {8, 4}, {8, 8}, {4, 4}}));
  case_shape const s{.batch = 3,
                     .q_heads = q_heads,
                     .kv_heads = kv_heads,
                     .q_len = 33,
                     .key_len = 70,
                     .dim = 16,
                     .v_dim = 24};
  INFO("Hq " << q_heads << " Hkv " << kv_heads);
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    attnkit::test::check_random_case<Arch>(causal_attention{}, s, 900);
    attnkit::test::check_random_case<Arch>(full_attention{}, s, 901);
  });
}

TEST_CASE("softmax kernel: BSHD and padded-row layouts", "[kernel][softmax][layout]") {
  layout const mem = GENERATE(layout::bhsd, layout::bshd);
  std::int64_t const row_pad = GENERATE(0, 5);
  case_shape const s{.batch = 2,
                     .q_heads = 4,
                     .kv_heads = 2,
                     .q_len = 65,
                     .key_len = 100,
                     .dim = 80,
                     .v_dim = 64,
                     .mem = mem,
                     .row_pad = row_pad};
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    attnkit::test::check_random_case<Arch>(causal_attention{}, s, 1000);
  });
}

TEST_CASE("softmax kernel: custom scale", "[kernel][softmax]") {
  float const scale = GENERATE(0.01f, 0.3f, 1.0f);
  case_shape const s{.q_len = 40, .key_len = 90, .dim = 16, .v_dim = 16};
  attnkit::test::check_random_case<xsimd::default_arch>(causal_attention{{.scale = scale}}, s, 1100);
  attnkit::test::check_random_case<xsimd::default_arch>(full_attention{{.scale = scale}}, s, 1101);
}

TEST_CASE("softmax kernel: inputs with zero strides (one K/V row broadcast to every head)",
          "[kernel][softmax][layout]") {
  // K and V hold one head; views with head stride 0 present it as 4 KV heads.
  attnkit::test::tensor q(2, 8, 50, 16), k(2, 1, 90, 16), v(2, 1, 90, 12), o(2, 8, 50, 12);
  attnkit::test::fill_normal(q, 1200);
  attnkit::test::fill_normal(k, 1201);
  attnkit::test::fill_normal(v, 1202);
  auto const broadcast = [](attnkit::test::tensor& t) {
    auto const one = t.cview();
    return attnkit::tensor_view<float const>(one.data(), {t.b, 4, t.s, t.d},
                                             {one.stride(0), 0, one.stride(2), 1});
  };
  causal_attention const attn{};
  auto const kb = broadcast(k), vb = broadcast(v);
  auto const ref = attnkit::reference::attention(attn, q.cview(), kb, vb);
  attnkit::test::for_each_arch([&](auto arch) {
    attn.run_on<decltype(arch)>(q.cview(), kb, vb, o.view(), {});
    attnkit::test::check_against_reference(ref, vb, o.view());
  });
}

TEST_CASE("softmax kernel: KV heads packed and used in several chunks", "[kernel][softmax][long]") {
  // One KV head of Sk = 4097, D = Dv = 256 packs to about 8 MiB, more than half the packing budget, so
  // the 2 x 4 KV heads go through one at a time; GQA puts two query heads on each.
  case_shape const s{
      .batch = 2, .q_heads = 8, .kv_heads = 4, .q_len = 65, .key_len = 4097, .dim = 256, .v_dim = 256};
  attnkit::test::check_random_case<xsimd::default_arch>(causal_attention{}, s, 1300, {.threads = 2});
  attnkit::test::check_random_case<xsimd::default_arch>(full_attention{}, s, 1301, {.threads = 2});
}
