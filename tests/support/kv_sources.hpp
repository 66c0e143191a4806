#pragma once
// K/V sources built from test tensors: the same keys in a contiguous cache or in shuffled pages, and a
// runner that checks a call over any source against the fp64 reference.

#include "compare.hpp"
#include "random_tensor.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

namespace attnkit::test {

/// k [B, Hkv, Sk, D] and v in a page pool, each sequence's pages at shuffled ids, with a spare page column
/// in the block tables (a table may be longer than its sequence).
struct paged_copy {
  page_pool pool;
  std::vector<std::int32_t> tables;
  std::int64_t max_pages;
  paged_kv kv;

  paged_copy(tensor_view<float const> k, tensor_view<float const> v, std::int64_t page_size,
             std::uint32_t seed)
      : pool(k.extent(0) * pages_for(k.extent(2), page_size) + 3, page_size, k.extent(1), k.extent(3),
             v.extent(3)),
        tables(), max_pages(pages_for(k.extent(2), page_size) + 1), kv(fill(k, v, seed)) {}

  static std::int64_t pages_for(std::int64_t key_len, std::int64_t page_size) {
    return (key_len + page_size - 1) / page_size;
  }

private:
  paged_kv fill(tensor_view<float const> k, tensor_view<float const> v, std::uint32_t seed) {
    std::int64_t const batch = k.extent(0), page_size = pool.page_size();
    std::vector<std::int32_t> ids(static_cast<std::size_t>(pool.pages()));
    for (auto& id : ids)
      id = pool.allocate();
    std::shuffle(ids.begin(), ids.end(), std::mt19937(seed));
    tables.assign(static_cast<std::size_t>(batch * max_pages), ids.back()); // the spare column: any page
    std::size_t next = 0;
    for (std::int64_t b = 0; b < batch; ++b)
      for (std::int64_t i = 0; i < pages_for(k.extent(2), page_size); ++i)
        tables[static_cast<std::size_t>(b * max_pages + i)] = ids[next++];
    for (std::int64_t b = 0; b < batch; ++b)
      for (std::int64_t h = 0; h < k.extent(1); ++h)
        for (std::int64_t j = 0; j < k.extent(2); ++j) {
          std::int32_t const page = tables[static_cast<std::size_t>(b * max_pages + j / page_size)];
          for (std::int64_t d = 0; d < k.extent(3); ++d)
            pool.key_row(page, h, j % page_size)[d] = k(b, h, j, d);
          for (std::int64_t d = 0; d < v.extent(3); ++d)
            pool.value_row(page, h, j % page_size)[d] = v(b, h, j, d);
        }
    return paged_kv(pool, tensor_view<std::int32_t const, 2>(tables.data(), {batch, max_pages}), k.extent(2));
  }
};

/// Runs `attn` on `Arch` over `source` and checks o (and lse when the normaliser has one) against `ref`,
/// computed over the full keys `v` stands for.
template <class Arch, class Attention, class Source>
void check_source(Attention const& attn, tensor_view<float const> q, Source const& source,
                  tensor_view<float const> v, reference::result const& ref, run_options run = {}) {
  tensor o(q.extent(0), q.extent(1), q.extent(2), v.extent(3));
  std::vector<float> lse_buf(static_cast<std::size_t>(q.extent(0) * q.extent(1) * q.extent(2)), 123.0f);
  auto const lse = bhs(lse_buf.data(), q.extent(0), q.extent(1), q.extent(2));
  tensor_view<float, 3> const wanted = Attention::normaliser_type::has_lse ? lse : tensor_view<float, 3>{};
  attn.template run_on<Arch>(q, source, o.view(), wanted, run);
  check_against_reference(ref, v, o.view(), wanted);
}

} // namespace attnkit::test
