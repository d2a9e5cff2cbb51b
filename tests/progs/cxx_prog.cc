// A C++ program whose allocations happen inside inlined standard-library
// code (tests/test_trace_frames.c): the frames shown must be the
// program's own lines, with the inlined calls between them.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

static std::vector<long> *numbers;
static std::map<int, std::string> *names;

static inline __attribute__((always_inline)) void fill(std::vector<long> &v, int n)
{
    for (int i = 0; i < n; i++)
        v.push_back(i);                        // SITE:push_back
}

__attribute__((noinline)) void build_vector()
{
    numbers = new std::vector<long>;           // SITE:new_vector
    fill(*numbers, 100000);                    // SITE:call_fill
}

__attribute__((noinline)) void build_map()
{
    names = new std::map<int, std::string>;
    for (int i = 0; i < 1000; i++)
        (*names)[i] = "a string too long for SSO, so it allocates";   // SITE:map_insert
}

int main()
{
    build_vector();
    build_map();
    std::printf("%zu numbers, %zu names\n", numbers->size(), names->size());
    return 0;
}
