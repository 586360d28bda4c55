// A small deterministic fuzzing driver for LLVMFuzzerTestOneInput targets,
// for toolchains without libFuzzer. It runs every file of the corpus, then
// `--iterations` inputs made by stacking random mutations (bit flips, byte
// edits, insertions, deletions, duplications, truncations, splices and
// text-level tokens) on corpus entries, from a fixed `--seed`. There is no
// coverage feedback; the corpus seeds reach the deep paths and mutations
// perturb them. A crash, a failed CAIRN_CHECK or a sanitizer report aborts
// the process and fails the test.
//
// Before each input the driver writes it to `--save-last FILE` (when given),
// so a crash leaves the offending input behind; `--replay FILE` runs it alone.
//
//   fuzz_x --corpus DIR [--iterations N] [--seed S] [--save-last FILE]
//   fuzz_x --replay FILE
//   fuzz_x --write-seeds DIR
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "fuzz_target.h"

namespace {

constexpr size_t kInputBytesMax = 1 << 20;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "fuzz: cannot read " << path << "\n";
    std::exit(2);
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

class Mutator {
 public:
  Mutator(uint64_t seed, const std::vector<std::string>* corpus) : rng_(seed), corpus_(corpus) {}

  std::string Mutate(std::string s) {
    const int count = 1 + static_cast<int>(Below(4));
    for (int i = 0; i < count; ++i) MutateOnce(s);
    if (s.size() > kInputBytesMax) s.resize(kInputBytesMax);
    return s;
  }

 private:
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  char RandomByte() { return static_cast<char>(Below(256)); }

  void MutateOnce(std::string& s) {
    static const char* const kTokens[] = {"{",
                                          "}",
                                          "[",
                                          "]",
                                          "\"",
                                          ":",
                                          ",",
                                          "null",
                                          "true",
                                          "-1",
                                          "0",
                                          "1e400",
                                          "0.5",
                                          "18446744073709551615",
                                          "18446744073709551616",
                                          "9223372036854775808",
                                          "\\u0000",
                                          "\"\"",
                                          "{}",
                                          "[]",
                                          "\xff",
                                          "\xc3\x28",
                                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    const size_t pos = Below(s.size() + 1);
    switch (Below(10)) {
      case 0:  // flip a bit
        if (!s.empty()) s[pos % s.size()] ^= static_cast<char>(1u << Below(8));
        break;
      case 1:  // set a byte
        if (!s.empty()) s[pos % s.size()] = RandomByte();
        break;
      case 2: {  // set an interesting byte
        static const char kInteresting[] = {
            0, 1, 0x7f, static_cast<char>(0x80), static_cast<char>(0xff), '{', '"', ',', '0', '9'};
        if (!s.empty()) s[pos % s.size()] = kInteresting[Below(sizeof(kInteresting))];
        break;
      }
      case 3: {  // insert random bytes
        std::string ins(1 + Below(8), '\0');
        for (char& c : ins) c = RandomByte();
        s.insert(pos, ins);
        break;
      }
      case 4:  // delete a range
        if (!s.empty()) s.erase(pos % s.size(), 1 + Below(std::min<size_t>(s.size(), 64)));
        break;
      case 5:  // duplicate a range
        if (!s.empty()) {
          const size_t from = pos % s.size();
          s.insert(Below(s.size() + 1), s.substr(from, 1 + Below(64)));
        }
        break;
      case 6:  // truncate
        s.resize(Below(s.size() + 1));
        break;
      case 7: {  // splice another corpus entry in
        const std::string& other = (*corpus_)[Below(corpus_->size())];
        if (!other.empty()) {
          const size_t from = Below(other.size());
          s.replace(pos, Below(64), other.substr(from, 1 + Below(256)));
        }
        break;
      }
      case 8:  // insert a token
        s.insert(pos, kTokens[Below(sizeof(kTokens) / sizeof(kTokens[0]))]);
        break;
      default: {  // overwrite 4 or 8 bytes with an extreme integer (lengths, counts)
        if (s.size() >= 8) {
          const size_t at = pos % (s.size() - 7);
          const char fill = Below(2) ? '\xff' : '\0';
          std::fill_n(s.begin() + static_cast<long>(at), Below(2) ? 4 : 8, fill);
        }
        break;
      }
    }
  }

  std::mt19937_64 rng_;
  const std::vector<std::string>* corpus_;
};

struct Args {
  std::string corpus, replay, write_seeds, save_last;
  uint64_t iterations = 20000;
  uint64_t seed = 20240601;
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "fuzz: " << flag << " needs a value\n";
      std::exit(2);
    }
    const std::string value = argv[++i];
    if (flag == "--corpus")
      a.corpus = value;
    else if (flag == "--replay")
      a.replay = value;
    else if (flag == "--write-seeds")
      a.write_seeds = value;
    else if (flag == "--save-last")
      a.save_last = value;
    else if (flag == "--iterations")
      a.iterations = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--seed")
      a.seed = std::strtoull(value.c_str(), nullptr, 10);
    else {
      std::cerr << "fuzz: unknown flag " << flag << "\n";
      std::exit(2);
    }
  }
  return a;
}

int WriteSeeds(const std::string& dir) {
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : cairn::fuzz::Seeds()) {
    std::ofstream(dir + "/" + name, std::ios::binary | std::ios::trunc) << bytes;
  }
  return 0;
}

std::vector<std::string> LoadCorpus(const std::string& dir) {
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file()) paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> corpus;
  for (const std::string& p : paths) corpus.push_back(ReadFile(p));
  if (corpus.empty()) corpus.push_back("");
  return corpus;
}

// Keeps the input about to run in a file, so a crash leaves it behind.
void SaveLast(int fd, const std::string& input) {
  if (fd < 0) return;
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, input.data(), input.size(), 0) < 0) {
    std::perror("fuzz: save-last");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  if (!args.write_seeds.empty()) return WriteSeeds(args.write_seeds);
  if (!args.replay.empty()) {
    Run(ReadFile(args.replay));
    std::cout << "fuzz: replayed " << args.replay << " without a crash\n";
    return 0;
  }
  if (args.corpus.empty()) {
    std::cerr << "fuzz: --corpus DIR is required\n";
    return 2;
  }
  const std::vector<std::string> corpus = LoadCorpus(args.corpus);
  const int last_fd =
      args.save_last.empty() ? -1 : ::open(args.save_last.c_str(), O_RDWR | O_CREAT, 0644);
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& input : corpus) {
    SaveLast(last_fd, input);
    Run(input);
  }
  Mutator mutator(args.seed, &corpus);
  std::mt19937_64 pick(args.seed ^ 0x9e3779b97f4a7c15ull);
  std::string previous = corpus[0];
  for (uint64_t i = 0; i < args.iterations; ++i) {
    // Half the time keep mutating the previous input, so mutations stack.
    const std::string& base = (pick() % 2 == 0) ? previous : corpus[pick() % corpus.size()];
    previous = mutator.Mutate(base);
    SaveLast(last_fd, previous);
    Run(previous);
  }
  if (last_fd >= 0) ::close(last_fd);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "fuzz: " << corpus.size() << " corpus inputs and " << args.iterations
            << " mutations (seed " << args.seed << ") in " << seconds << " s, no crash\n";
  return 0;
}
