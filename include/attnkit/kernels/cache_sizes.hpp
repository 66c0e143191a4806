#pragma once
/// \file
/// The data cache sizes of the CPU the program runs on, read once: tile sizes come from them, not from
/// constants written for one CPU (Zen 3 has 512 KiB of L2 per core, Zen 4 and 5 have 1 MiB).

#include <cstdint>
#include <fstream>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace attnkit::detail {

/// Bytes of L1 data, L2 (per core) and L3 (shared) cache.
struct cache_sizes {
  std::int64_t l1 = 32 << 10;
  std::int64_t l2 = 512 << 10;
  std::int64_t l3 = 8 << 20;
};

/// "512K", "32768K", "8M" (Linux sysfs) in bytes; 0 if unreadable.
inline std::int64_t parse_cache_size(std::string const& text) noexcept {
  std::int64_t value = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
    value = value * 10 + (text[i] - '0');
  if (i < text.size() && (text[i] == 'K' || text[i] == 'k'))
    value <<= 10;
  else if (i < text.size() && (text[i] == 'M' || text[i] == 'm'))
    value <<= 20;
  return value;
}

/// Linux sysfs: cpu0's cache of `level` holding data (type Data or Unified); 0 if not found.
inline std::int64_t sysfs_cache_size(int level) {
  for (int index = 0; index < 8; ++index) {
    std::string const dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    std::ifstream level_file(dir + "level"), type_file(dir + "type"), size_file(dir + "size");
    int found_level = 0;
    std::string type, size;
    if (!(level_file >> found_level) || !(type_file >> type) || !(size_file >> size))
      continue;
    if (found_level == level && type != "Instruction")
      return parse_cache_size(size);
  }
  return 0;
}

/// The sizes, read the first time (sysfs, then sysconf: glibc's sysconf reports 256 MiB of L3 on a Zen 3
/// VM whose sysfs and CPUID say 32 MiB); a size nothing reports keeps its default.
inline cache_sizes const& host_cache_sizes() {
  static cache_sizes const sizes = [] {
    cache_sizes s;
    std::int64_t found[3] = {sysfs_cache_size(1), sysfs_cache_size(2), sysfs_cache_size(3)};
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
    long const names[3] = {_SC_LEVEL1_DCACHE_SIZE, _SC_LEVEL2_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE};
    for (int level = 0; level < 3; ++level)
      if (found[level] <= 0)
        found[level] = sysconf(static_cast<int>(names[level]));
#endif
    // Sizes outside these bounds are misreports (some VMs say 0 or a whole socket's L3).
    if (found[0] >= (8 << 10) && found[0] <= (1 << 20))
      s.l1 = found[0];
    if (found[1] >= (128 << 10) && found[1] <= (64 << 20))
      s.l2 = found[1];
    if (found[2] >= (1 << 20) && found[2] <= (std::int64_t{1} << 30))
      s.l3 = found[2];
    return s;
  }();
  return sizes;
}

} // namespace attnkit::detail
