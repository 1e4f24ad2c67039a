package osregex

import "github.com/threatlockdown/tld/internal/ruleset/asciifold"

// run matches one alternative against s (already cut at NUL) the way
// Wazuh's matcher does, and returns the position of the last byte it
// considers matched, or null. The position can be -1 when a leading "*"
// matched nothing, and it is often not where a PCRE user would expect:
// for "\w+" on "ab cd" it is the space that ended the run.
//
// When capture is set (the pattern has groups and the caller wants them),
// bounds receives, for each parenthesis in order, the offset Wazuh records
// for it; -1 means never recorded. Capture mode changes how the end of the
// subject is handled, exactly as in Wazuh.
func (a *alt) run(s string, bounds []int, capture bool) int {
	if a.prefix != "" {
		if a.begin {
			if !asciifold.HasPrefix(s, a.prefix) {
				return null
			}
		} else if i := asciifold.Index(s, a.prefix); i < 0 {
			return null
		} else if a.literal {
			return i + len(a.prefix) - 1
		}
	}
	for _, lit := range a.required {
		if asciifold.Index(s, lit) < 0 {
			return null
		}
	}

	p := a.prog
	// pat and sub read the pattern and the subject like C strings: a NUL
	// past the end.
	pat := func(i int) byte {
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	sub := func(i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	mark := func(at, val int) {
		if capture {
			if k := a.slot[at]; k >= 0 {
				bounds[k] = val
			}
		}
	}

	res := 0           // the result so far; starts at the subject itself
	repeating := false // a "+" or "*" is consuming bytes
	retry := -1        // where the current attempt started, to restart after it
	// Up to four places to resume from after a failed attempt: the pattern
	// position of a repeated escape and the subject offset it was at.
	resumePt := [4]int{-1, -1, -1, -1}
	var resumeSt [4]int

	pt, st := 0, 0
	for ; st < len(s); st++ {
		switch pat(pt) {
		case 0:
			// Pattern exhausted. Inside the loop the subject is not, so an
			// end anchor cannot be satisfied here.
			if !a.end {
				return res
			}
		case '(':
			mark(pt, st)
			pt++
			if pat(pt) == 0 && !a.end {
				return res
			}
		}

		c := s[st]
		if pat(pt) == '\\' {
			if classes[pat(pt+1)][c] {
				next := pt + 2
				if q := pat(next); q != '+' && q != '*' {
					pt = next
					if retry < 0 {
						retry = st
					}
					res = st
					continue
				}
				if pat(next) == '*' {
					repeating = true
				}
				if repeating {
					// Look at what follows the repetition: if this byte
					// also starts it, note a resume point and move on.
					next++
					ahead := -1
					if pat(next) == '(' {
						next++
					}
					switch n := pat(next); {
					case n == 0:
						ahead = 1
					case n == '\\':
						if classes[pat(next+1)][c] {
							if q := pat(next + 2); q == '+' || q == '*' {
								ahead = 0
							} else {
								ahead = 2
							}
						}
					case n == lower(c):
						repeating = false
						ahead = 1
					}
					if ahead >= 0 {
						if pat(next-1) == '(' {
							if repeating && ahead == 1 {
								mark(next-1, st+1)
							} else {
								mark(next-1, st)
							}
						}
						if pat(next) == 0 {
							continue
						}
						next += ahead
						for k := range resumePt {
							if resumePt[k] < 0 {
								resumePt[k], resumeSt[k] = pt, st
								break
							}
						}
						pt = next
					}
				} else {
					// First byte of a "+": from now on we are repeating.
					next++
					if pat(next) == '(' {
						if sub(st+1) == 0 {
							mark(next, st+1)
						} else {
							mark(next, st)
						}
					}
					repeating = true
				}
				res = st
				continue
			}

			// The escape does not match this byte.
			switch {
			case (pat(pt+2) == 0 || pat(pt+3) == 0) && repeating && res != null:
				res = st
				if !a.end {
					return res
				}
			case pat(pt+2) == '+' && repeating:
				// The repetition is over: retry this byte on what follows.
				pt += 3
				st--
				repeating = false
				continue
			case pat(pt+2) == '*':
				// Zero repetitions: retry this byte on what follows.
				pt += 3
				st--
				res = st
				repeating = false
				continue
			}
			repeating = false
		} else if pat(pt) == lower(c) {
			pt++
			if retry < 0 {
				retry = st
			}
			res = st
			continue
		}

		// Failure: resume from the latest saved point, or give up on an
		// anchored pattern, or restart the pattern one byte further.
		resumed := false
		for k := len(resumePt) - 1; k >= 0; k-- {
			if resumePt[k] >= 0 {
				pt, st = resumePt[k], resumeSt[k]
				resumePt[k] = -1
				resumed = true
				break
			}
		}
		if resumed {
			continue
		}
		if a.begin {
			return null
		}
		if retry >= 0 {
			st = retry
			retry = -1
		}
		pt = 0
		res = null
	}

	// The subject is exhausted (st is its length).
	if capture {
		// A group may still be open or closing after optional escapes.
		for pat(pt) != '(' && pat(pt) != 0 && pat(pt) == '\\' && pat(pt+2) == '*' {
			pt += 3
		}
		if pat(pt) == '(' {
			mark(pt, st)
		}
	}
	return a.finish(pt, res, repeating)
}

// finish decides, once the subject is exhausted, whether what is left of
// the pattern may match nothing: at most a group mark, or the tail of a
// running "+" and a trailing "*". The steps advance pt as they go and a
// later step starts where an earlier one stopped, as in Wazuh.
func (a *alt) finish(pt, res int, repeating bool) int {
	p := a.prog
	pat := func(i int) byte {
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	// atEnd skips one group mark and reports whether the pattern ends.
	atEnd := func() bool {
		if pat(pt) == '(' {
			pt++
		}
		return pat(pt) == 0
	}
	if atEnd() {
		return res
	}
	if pat(pt) == '\\' && repeating {
		pt += 2
		if q := pat(pt); q == '+' || q == '*' {
			pt++
			if atEnd() {
				return res
			}
			if pat(pt) == '\\' {
				pt += 2
				if pat(pt) == '*' {
					pt++
					if atEnd() {
						return res
					}
				}
			}
		}
	}
	if pat(pt) == '\\' {
		pt += 2
		if pat(pt) == '*' {
			pt++
			if atEnd() {
				return res
			}
		}
	}
	return null
}
