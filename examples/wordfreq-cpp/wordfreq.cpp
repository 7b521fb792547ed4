// wordfreq (C++): counts the words of its standard input and prints the most
// frequent ones, most frequent first (ties in byte order), one "count word" line
// each. `--top N` (default: all) keeps the first N lines.
//
// An ordinary C++17 program: iostream, std::string, std::unordered_map,
// std::vector and std::sort, nothing Pappus-specific. Compiled for WASI
// (`clang++ --target=wasm32-wasi --sysroot=/usr -O2`) it runs as a Pappus
// function; its arguments come from the function's registration (pappus.toml).
// It throws no exceptions: wasm32 has no C++ exception support here.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

int main(int argc, char **argv) {
    std::size_t top = static_cast<std::size_t>(-1);
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--top") == 0)
            top = std::strtoul(argv[i + 1], nullptr, 10);
    }

    std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    std::unordered_map<std::string, long> counts;
    std::string word;
    for (char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (!word.empty()) {
            ++counts[word];
            word.clear();
        }
    }
    if (!word.empty())
        ++counts[word];

    std::vector<std::pair<std::string, long>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (sorted.size() > top)
        sorted.resize(top);
    for (const auto &[w, n] : sorted)
        std::cout << n << ' ' << w << '\n';
    return 0;
}
