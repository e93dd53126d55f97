#include "src/fs/object_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <future>
#include <vector>

#include "src/fs/block_fetcher.h"

namespace pailfs::fs {
namespace {

constexpr uint64_t kMaxRequest = 8ull << 20;  // largest single read-ahead GET

}  // namespace

// A fetched (or in-flight) byte range [start, end) of the object.
struct FetchedRange {
  uint64_t start = 0;
  uint64_t end = 0;
  std::shared_future<Result<std::string>> data;
  uint64_t last_used = 0;
};

namespace {

// The end of the run of `ranges` that covers [pos, ...) without a gap (pos
// itself when nothing covers it).
uint64_t CoveredUntil(const std::vector<FetchedRange>& ranges, uint64_t pos) {
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto& r : ranges) {
      if (r.start <= pos && pos < r.end) {
        pos = r.end;
        moved = true;
      }
    }
  }
  return pos;
}

}  // namespace

struct ObjectReader::Impl {
  std::mutex mu;
  std::vector<FetchedRange> ranges;  // guarded by mu; few (bounded by memory cap)
  uint64_t next_expected = 0;        // guarded by mu: end of the previous read
  uint64_t window = 0;               // guarded by mu: read-ahead window, 0 = random
  uint64_t tick = 0;                 // guarded by mu: LRU clock
};

ObjectReader::ObjectReader(ObjectStore* store, ThreadPool* pool, std::string key,
                           std::string etag, uint64_t size, ReaderOptions options,
                           BlockFetcher* blocks)
    : key_(std::move(key)),
      etag_(std::move(etag)),
      size_(size),
      options_(options),
      own_blocks_(blocks == nullptr ? std::make_unique<BlockFetcher>(store, pool, nullptr)
                                    : nullptr),
      blocks_(blocks == nullptr ? own_blocks_.get() : blocks),
      impl_(std::make_unique<Impl>()) {}

ObjectReader::~ObjectReader() {
  // In-flight runs hold only copies of key/etag and the fetcher's shared
  // state; wait for them so nothing outlives the store's user.
  for (auto& r : impl_->ranges) r.data.wait();
}

Result<std::string> ObjectReader::Read(uint64_t offset, size_t size) {
  PAILFS_ASSIGN_OR_RETURN(ReadData data, ReadPieces(offset, size));
  return data.Flatten();
}

Result<ReadData> ObjectReader::ReadPieces(uint64_t offset, size_t size) {
  if (offset >= size_ || size == 0) return ReadData();
  const uint64_t end = std::min<uint64_t>(size_, offset + size);

  std::vector<FetchedRange> needed;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    Impl& s = *impl_;
    // Sequential detection: a read that starts where the last one ended.
    if (offset == s.next_expected && offset != 0) {
      s.window = s.window == 0 ? options_.chunk : std::min(s.window * 2, options_.max_readahead);
    } else if (offset != s.next_expected) {
      s.window = 0;
    }
    s.next_expected = end;

    // Asks for the blocks of [from, to) no range covers, in runs of at most
    // `piece` bytes (a run in flight for another reader is shared).
    const uint64_t block = blocks_->block_size();
    auto align_down = [block](uint64_t v) { return v / block * block; };
    auto align_up = [block](uint64_t v) { return (v + block - 1) / block * block; };
    auto fill = [&](uint64_t from, uint64_t to, uint64_t piece) {
      piece = std::max(block, align_down(piece));
      from = align_down(from);
      to = std::min(size_, align_up(to));
      uint64_t pos = from;
      while (pos < to) {
        auto covering = std::find_if(s.ranges.begin(), s.ranges.end(), [&](const FetchedRange& r) {
          return r.start <= pos && pos < r.end;
        });
        if (covering != s.ranges.end()) {
          pos = covering->end;
          continue;
        }
        uint64_t stop = std::min(to, pos + piece);
        for (const auto& r : s.ranges) {
          if (r.start > pos && r.start < stop) stop = r.start;
        }
        BlockRun run = blocks_->Fetch(key_, etag_, size_, pos, stop);
        FetchedRange fr;
        fr.start = run.start;
        fr.end = run.end;
        fr.data = std::move(run.data);
        s.ranges.push_back(fr);
        pos = std::max(pos + 1, run.end);
      }
    };
    // What the read itself needs: only the blocks it touches.
    const uint64_t demand_piece = align_up(end) - align_down(offset);
    fill(offset, end, demand_piece);
    if (s.window > 0) {
      // Refill whenever at least one whole `piece` fits between what is
      // fetched or in flight and the end of the window (or the window
      // reaches the end of the object), so the window stays full of GETs in
      // flight while read-ahead GETs stay `piece`-sized instead of one small
      // GET per kernel read as the window slides.
      const uint64_t piece = std::clamp<uint64_t>(
          s.window / std::max(1, options_.parallelism), options_.chunk, kMaxRequest);
      // The window counts from the start of the range the read is in, so
      // what the reader holds (that range and the window ahead of it) stays
      // within the memory cap below.
      uint64_t base = align_down(offset);
      for (const auto& r : s.ranges) {
        if (r.start <= offset && offset < r.end) base = std::min(base, r.start);
      }
      const uint64_t target = std::min(size_, std::max(end, base + s.window));
      const uint64_t ahead = CoveredUntil(s.ranges, end);
      if (ahead < target) {
        const uint64_t to = target == size_ ? target : ahead + (target - ahead) / piece * piece;
        if (to > ahead) fill(ahead, to, piece);
      }
    }
    ++s.tick;
    for (auto& r : s.ranges) {
      if (r.end > offset && r.start < end) {
        r.last_used = s.tick;
        needed.push_back(r);
      }
    }
  }

  ReadData out;
  Status failure;
  std::sort(needed.begin(), needed.end(),
            [](const FetchedRange& a, const FetchedRange& b) { return a.start < b.start; });
  uint64_t pos = offset;
  for (const auto& r : needed) {
    const Result<std::string>& data = r.data.get();
    if (!data.ok()) {
      failure = data.status();
      break;
    }
    if (r.start > pos || r.end <= pos) continue;
    const uint64_t stop = std::min(end, r.end);
    out.pieces.push_back(std::string_view(*data).substr(pos - r.start, stop - pos));
    out.owners.push_back(std::make_shared<std::shared_future<Result<std::string>>>(r.data));
    pos = stop;
  }

  std::lock_guard<std::mutex> lock(impl_->mu);
  Impl& s = *impl_;
  // Drop failed ranges (so a later read retries) and enforce the memory cap:
  // ranges wholly behind a sequential reader go first, then least recently used.
  const uint64_t cap = options_.max_readahead + std::max<uint64_t>(options_.chunk, end - offset);
  auto ready_failed = [](const FetchedRange& r) {
    return r.data.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
           !r.data.get().ok();
  };
  std::erase_if(s.ranges, ready_failed);
  if (s.window > 0) {
    std::erase_if(s.ranges, [&](const FetchedRange& r) {
      return r.end <= offset &&
             r.data.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    });
  }
  uint64_t total = 0;
  for (const auto& r : s.ranges) total += r.end - r.start;
  while (total > cap) {
    auto victim = s.ranges.end();
    for (auto it = s.ranges.begin(); it != s.ranges.end(); ++it) {
      if (it->data.wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;
      if (victim == s.ranges.end() || it->last_used < victim->last_used) victim = it;
    }
    if (victim == s.ranges.end()) break;  // everything left is in flight
    total -= victim->end - victim->start;
    s.ranges.erase(victim);
  }

  if (!failure.ok()) return failure;
  if (pos != end) return Internal("read of " + key_ + " assembled a short buffer");
  return out;
}

Status DownloadToFile(ObjectStore* store, ThreadPool* pool, const std::string& key,
                      const std::string& etag, uint64_t from, uint64_t to, int fd,
                      uint64_t chunk, int parallelism) {
  chunk = std::max<uint64_t>(chunk, 1ull << 20);
  std::deque<std::future<Status>> in_flight;
  Status failure;
  auto collect = [&] {
    Status s = in_flight.front().get();
    in_flight.pop_front();
    if (!s.ok() && failure.ok()) failure = s;
  };
  for (uint64_t pos = from; pos < to && failure.ok(); pos += chunk) {
    const uint64_t stop = std::min(to, pos + chunk);
    in_flight.push_back(pool->Async([=]() -> Status {
      PAILFS_ASSIGN_OR_RETURN(std::string data, GetPinnedRange(store, key, etag, pos, stop));
      size_t done = 0;
      while (done < data.size()) {
        ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                             static_cast<off_t>(pos + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          int err = n < 0 ? errno : ENOSPC;
          return Status::FromErrno(err, "stage " + key + ": " + std::strerror(err));
        }
        done += static_cast<size_t>(n);
      }
      return Status::Ok();
    }));
    if (static_cast<int>(in_flight.size()) >= std::max(1, parallelism)) collect();
  }
  while (!in_flight.empty()) collect();
  return failure;
}

}  // namespace pailfs::fs
