// The decode loop must not allocate: counts operator new calls around prefill/decode/sample.
// (Replacing the global operator new affects this whole test binary; it only counts.)
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

#include "edgellm/edgellm.h"
#include "model/tiny_model.h"

namespace {
std::atomic<long> g_news{0};
}  // namespace

void* operator new(size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// Every form of new/delete that the standard library may pair must be replaced together, or a nothrow
// new from the sanitizer's allocator meets our free() (ASan reports alloc-dealloc-mismatch).
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace edgellm {
namespace {

TEST(NoAlloc, DecodeAndSampleDoNotAllocate) {
  test::TinySpec spec;
  spec.arch = "qwen2";
  auto bytes = test::tiny_writer(test::make_tiny_model(spec)).write_bytes();
  ASSERT_TRUE(bytes);
  auto model = Model::load_from_bytes(std::move(bytes).value(), "tiny");
  ASSERT_TRUE(model) << model.status().message();
  SessionOptions so;
  so.n_threads = 2;
  so.n_ctx = 64;
  so.n_batch = 8;
  auto session = Session::create(*model, so);
  ASSERT_TRUE(session);
  SamplerParams sp;
  sp.repeat_penalty = 1.1f;
  auto sampler = Sampler::create(sp, 67);
  ASSERT_TRUE(sampler);
  const std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  for (int32_t t : prompt) (*sampler)->accept(t);

  const long probe = g_news.load();
  auto counted = std::make_unique<int>(1);  // the counter sees allocations, so 0 below means something
  EXPECT_GT(g_news.load(), probe);

  const long before = g_news.load();
  ASSERT_TRUE((*session)->prefill(prompt));
  for (int i = 0; i < 20; ++i) {
    const int32_t t = (*sampler)->sample((*session)->logits());
    (*sampler)->accept(t);
    ASSERT_TRUE((*session)->decode(t));
  }
  EXPECT_EQ(g_news.load() - before, 0);
}

}  // namespace
}  // namespace edgellm
