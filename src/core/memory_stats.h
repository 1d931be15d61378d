// Process memory figures from /proc (Linux).
#pragma once

#include <cstdint>

namespace edgellm {

// Peak resident set size of this process in bytes (VmHWM), or 0 if unknown.
uint64_t peak_rss_bytes();
// Current resident set size in bytes (VmRSS), or 0 if unknown.
uint64_t current_rss_bytes();
// Total physical memory of the machine in bytes, or 0 if unknown.
uint64_t total_ram_bytes();

}  // namespace edgellm
