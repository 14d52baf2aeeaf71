#include "core/packet_buffer.h"

#include <gtest/gtest.h>

#include "core/etherip_header.h"
#include "core/outer_header.h"

namespace etherip {
namespace {

TEST(PacketBuffer, HeadroomFitsAnOuterIpv6AndAnEtherIpHeader) {
  EXPECT_GE(PacketBuffer::kHeadroom, kIpv6HeaderSize + kEtherIpHeaderSize);
}

TEST(PacketBuffer, StartsEmptyWithFullHeadroom) {
  PacketBuffer buffer;
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.headroom(), PacketBuffer::kHeadroom);
}

TEST(PacketBuffer, ReadCommitPrependConsume) {
  PacketBuffer buffer;
  auto room = buffer.ResetForRead();
  ASSERT_EQ(room.size(), PacketBuffer::kMaxData);
  room[0] = 0xaa;
  room[1] = 0xbb;
  buffer.Commit(2);
  EXPECT_EQ(buffer.size(), 2u);
  EXPECT_EQ(buffer.data().data(), room.data());

  auto front = buffer.Prepend(2);
  front[0] = 0x30;
  front[1] = 0x00;
  EXPECT_EQ(buffer.size(), 4u);
  EXPECT_EQ(buffer.headroom(), PacketBuffer::kHeadroom - 2);
  EXPECT_EQ(buffer.data()[0], 0x30);
  EXPECT_EQ(buffer.data()[2], 0xaa);

  buffer.Consume(3);
  EXPECT_EQ(buffer.size(), 1u);
  EXPECT_EQ(buffer.data()[0], 0xbb);
}

TEST(PacketBuffer, CommitAndResetRestoreTheHeadroom) {
  PacketBuffer buffer;
  buffer.Commit(10);
  buffer.Prepend(PacketBuffer::kHeadroom);
  EXPECT_EQ(buffer.headroom(), 0u);
  buffer.Commit(10);
  EXPECT_EQ(buffer.headroom(), PacketBuffer::kHeadroom);
  EXPECT_EQ(buffer.size(), 10u);
  buffer.Prepend(5);
  buffer.ResetForRead();
  EXPECT_EQ(buffer.headroom(), PacketBuffer::kHeadroom);
  EXPECT_EQ(buffer.size(), 0u);
}

}  // namespace
}  // namespace etherip
