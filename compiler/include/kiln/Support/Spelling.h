// "Did you mean ...?" suggestions for misspelled names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// Levenshtein distance (insertions, deletions and substitutions of single bytes).
size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to `name`, if it is close enough to be a plausible misspelling: at most a
// third of the name's length away (and at least one edit allowed). Ties go to the earlier one.
std::optional<std::string> closestMatch(std::string_view name,
                                        const std::vector<std::string> &candidates);

// "a, b and c" with every item double-quoted, for hints that list names.
std::string quotedList(const std::vector<std::string> &items);

} // namespace kiln
