// Where should the block cache keep its bytes: as LMDB values or as files?
// Writes, reads back and evicts N blocks both ways, the way the block cache
// would (one short write transaction per block, MDB_NOSYNC like the
// metadata cache; files written to a temporary name and renamed, with a
// small LMDB index record each), and prints MiB/s and the disk used.
// Build and run (see docs/CACHE.md):
//   g++ -O2 -std=c++20 docs/block_storage_measure.cc -llmdb -lcrypto -lz -o /tmp/bsm
//   /tmp/bsm /var/tmp/bsm 256 262144
#include <fcntl.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {
using Clock = std::chrono::steady_clock;
double Secs(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }
void Check(int rc, const char* what) {
  if (rc != 0) { std::fprintf(stderr, "%s: %s\n", what, mdb_strerror(rc)); std::exit(1); }
}
MDB_env* OpenEnv(const std::string& dir, MDB_dbi* dbi) {
  std::filesystem::create_directories(dir);
  MDB_env* env;
  Check(mdb_env_create(&env), "create");
  Check(mdb_env_set_mapsize(env, size_t{16} << 30), "mapsize");
  Check(mdb_env_open(env, dir.c_str(), MDB_NOTLS | MDB_NOSYNC | MDB_NOMETASYNC, 0600), "open");
  MDB_txn* txn;
  Check(mdb_txn_begin(env, nullptr, 0, &txn), "begin");
  Check(mdb_dbi_open(txn, nullptr, 0, dbi), "dbi");
  Check(mdb_txn_commit(txn), "commit");
  return env;
}
void PutRec(MDB_env* env, MDB_dbi dbi, uint64_t i, const void* data, size_t n) {
  MDB_txn* txn;
  Check(mdb_txn_begin(env, nullptr, 0, &txn), "begin");
  MDB_val k{sizeof(i), &i}, v{n, const_cast<void*>(data)};
  Check(mdb_put(txn, dbi, &k, &v, 0), "put");
  Check(mdb_txn_commit(txn), "commit");
}
void DelRec(MDB_env* env, MDB_dbi dbi, uint64_t i) {
  MDB_txn* txn;
  Check(mdb_txn_begin(env, nullptr, 0, &txn), "begin");
  MDB_val k{sizeof(i), &i};
  Check(mdb_del(txn, dbi, &k, nullptr), "del");
  Check(mdb_txn_commit(txn), "commit");
}
std::string GetRec(MDB_env* env, MDB_dbi dbi, uint64_t i) {
  MDB_txn* txn;
  Check(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), "begin");
  MDB_val k{sizeof(i), &i}, v;
  Check(mdb_get(txn, dbi, &k, &v), "get");
  std::string out(static_cast<const char*>(v.mv_data), v.mv_size);
  mdb_txn_abort(txn);
  return out;
}
uint64_t DiskBytes(const std::string& dir) {
  uint64_t total = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    struct stat st;
    if (::stat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += uint64_t(st.st_blocks) * 512;
  }
  return total;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : "/var/tmp/bsm";
  const uint64_t mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 256;
  const size_t block = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 262144;
  const uint64_t n = (mib << 20) / block;
  std::filesystem::remove_all(root);
  std::string data(block, '\0');
  for (size_t i = 0; i < block; ++i) data[i] = static_cast<char>(i * 131 + 7);
  std::printf("%llu blocks of %zu bytes (%llu MiB)\n", (unsigned long long)n, block, (unsigned long long)mib);

  {  // 1. bytes as LMDB values
    MDB_dbi dbi;
    MDB_env* env = OpenEnv(root + "/lmdb", &dbi);
    auto t = Clock::now();
    for (uint64_t i = 0; i < n; ++i) PutRec(env, dbi, i, data.data(), data.size());
    double w = Secs(t);
    t = Clock::now();
    size_t sum = 0;
    for (uint64_t i = 0; i < n; ++i) sum += GetRec(env, dbi, i).size();
    double r = Secs(t);
    // Evict everything and write a second generation (what LRU eviction does).
    t = Clock::now();
    for (uint64_t i = 0; i < n; ++i) { DelRec(env, dbi, i); PutRec(env, dbi, n + i, data.data(), data.size()); }
    double e = Secs(t);
    const double disk2 = DiskBytes(root + "/lmdb") / 1048576.0;
    // Keep only a quarter (a smaller cache_size at the next mount).
    for (uint64_t i = 0; i < n * 3 / 4; ++i) DelRec(env, dbi, n + i);
    const double shrunk = DiskBytes(root + "/lmdb") / 1048576.0;
    // Two writers at once (one per core here).
    t = Clock::now();
    std::vector<std::thread> writers;
    for (uint64_t w0 = 0; w0 < 2; ++w0) {
      writers.emplace_back([&, w0] {
        for (uint64_t i = w0; i < n; i += 2) PutRec(env, dbi, 4 * n + i, data.data(), data.size());
      });
    }
    for (auto& th : writers) th.join();
    double c = Secs(t);
    std::printf("lmdb values : write %6.0f MiB/s  read %6.0f MiB/s  evict+rewrite %6.0f MiB/s  2 writers %6.0f MiB/s  disk: 2 generations %4.0f MiB, after keeping 1/4 %4.0f MiB (%zu)\n",
                mib / w, mib / r, mib / e, mib / c, disk2, shrunk, sum);
    mdb_env_close(env);
  }
  {  // 2. bytes as files, index records in LMDB
    MDB_dbi dbi;
    MDB_env* env = OpenEnv(root + "/files-index", &dbi);
    const std::string dir = root + "/files";
    std::filesystem::create_directories(dir);
    auto path = [&](uint64_t i) { return dir + "/" + std::to_string(i); };
    auto write_file = [&](uint64_t i) {
      std::string tmp = path(i) + ".tmp";
      int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) std::exit(2);
      ::close(fd);
      ::rename(tmp.c_str(), path(i).c_str());
      char rec[64] = {};
      PutRec(env, dbi, i, rec, sizeof(rec));
    };
    auto t = Clock::now();
    for (uint64_t i = 0; i < n; ++i) write_file(i);
    double w = Secs(t);
    t = Clock::now();
    size_t sum = 0;
    for (uint64_t i = 0; i < n; ++i) {
      GetRec(env, dbi, i);
      std::string out(block, '\0');
      int fd = ::open(path(i).c_str(), O_RDONLY);
      ssize_t got = ::pread(fd, out.data(), out.size(), 0);
      ::close(fd);
      sum += static_cast<size_t>(got);
    }
    double r = Secs(t);
    t = Clock::now();
    for (uint64_t i = 0; i < n; ++i) { DelRec(env, dbi, i); ::unlink(path(i).c_str()); write_file(n + i); }
    double e = Secs(t);
    const double disk2 = (DiskBytes(dir) + DiskBytes(root + "/files-index")) / 1048576.0;
    for (uint64_t i = 0; i < n * 3 / 4; ++i) { DelRec(env, dbi, n + i); ::unlink(path(n + i).c_str()); }
    const double shrunk = (DiskBytes(dir) + DiskBytes(root + "/files-index")) / 1048576.0;
    t = Clock::now();
    std::vector<std::thread> writers;
    for (uint64_t w0 = 0; w0 < 2; ++w0) {
      writers.emplace_back([&, w0] {
        for (uint64_t i = w0; i < n; i += 2) write_file(4 * n + i);
      });
    }
    for (auto& th : writers) th.join();
    double c = Secs(t);
    std::printf("files       : write %6.0f MiB/s  read %6.0f MiB/s  evict+rewrite %6.0f MiB/s  2 writers %6.0f MiB/s  disk: 2 generations %4.0f MiB, after keeping 1/4 %4.0f MiB (%zu)\n",
                mib / w, mib / r, mib / e, mib / c, disk2, shrunk, sum);
    mdb_env_close(env);
  }
  {  // 3. checksum cost
    auto t = Clock::now();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    for (uint64_t i = 0; i < n; ++i) EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    const double sha = mib / Secs(t);
    t = Clock::now();
    uLong crc = 0;
    for (uint64_t i = 0; i < n; ++i) crc ^= crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
    std::printf("checksums   : sha256 %6.0f MiB/s  crc32 (zlib) %6.0f MiB/s (%lu)\n", sha, mib / Secs(t), crc & 1);
  }
  std::filesystem::remove_all(root);
  return 0;
}
