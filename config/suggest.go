package config

import "strings"

// Suggest returns the candidate that name most likely misspells, or "" when
// none is close: a candidate equal to name once case is ignored and '_' and
// '-' are treated alike, else the nearest one within an edit distance of 2
// (1 for names of up to 5 characters).
func Suggest(name string, candidates []string) string {
	fold := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }
	n := fold(name)
	best, bestD := "", 0
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := editDistance(n, fold(c))
		if d == 0 {
			return c
		}
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(n) <= 5 {
		limit = 1
	}
	if best == "" || bestD > limit {
		return ""
	}
	return best
}

// didYouMean is " (did you mean X?)" for Suggest's answer, or "".
func didYouMean(name string, candidates []string, format func(string) string) string {
	s := Suggest(name, candidates)
	if s == "" {
		return ""
	}
	return " (did you mean " + format(s) + "?)"
}

// editDistance is the Levenshtein distance of a and b in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
