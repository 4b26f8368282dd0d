#include <gtest/gtest.h>

#include "common/server/trace.h"

namespace anken::server {
namespace {

TEST(TraceParent, ParsesValidHeader) {
  auto t = ParseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t->parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(t->flags, "01");
}

TEST(TraceParent, RejectsMalformed) {
  for (const char* bad : {"", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"}) {
    EXPECT_FALSE(ParseTraceParent(bad).has_value()) << bad;
  }
}

TEST(TraceParent, ChildKeepsTraceWithNewParent) {
  TraceParent p{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01"};
  auto child = ParseTraceParent(ChildTraceParent(p));
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(child->trace_id, p.trace_id);
  EXPECT_NE(child->parent_id, p.parent_id);
  EXPECT_EQ(child->flags, "01");
}

TEST(TraceParent, NewTraceIsValidAndFresh) {
  TraceParent a = NewTrace(), b = NewTrace();
  EXPECT_TRUE(ParseTraceParent(FormatTraceParent(a)).has_value());
  EXPECT_NE(a.trace_id, b.trace_id);
}

}  // namespace
}  // namespace anken::server
