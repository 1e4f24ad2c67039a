package pcre2

import (
	"encoding/binary"
	"fmt"
	"regexp/syntax"
	"slices"
)

// A dfa tells whether a pattern's Go form matches somewhere in a subject,
// at one table look-up per byte: the subset construction of the program
// Go's regexp compiles, built in full when the pattern first needs it.
// Go's own engines (a backtracker or an NFA simulation) cost ten times
// more per byte and dominate unanchored patterns with few literals, such
// as \s\d+:\d+:\d+\s\w+:\s\S+.
//
// It reads subject bytes as runes of the same value. On ASCII that is what
// Go does; and without (*UTF) it is what regexp2 does too, so when the Go
// form is exact the answer holds for any subject the Go form may take
// (see re2.go), ASCII or not, valid UTF-8 or not; with (*UTF), for ASCII
// subjects only. It only answers whether there is a match: where there is
// one, Go's regexp computes its bounds and captures.
type dfa struct {
	class  [256]uint8 // byte to byte class
	nclass int
	// A state is the offset of its row in next, state number * nclass,
	// which saves a multiplication per byte. next maps state+class to the
	// next state, or to dfaMatched (a match ended before the byte) or
	// dfaDead (none can follow).
	next  []int32
	atEnd []bool // by state number: a match ends at the end of the subject
	start int32
}

const (
	dfaDead    = -1
	dfaMatched = -2
	// maxDFAStates bounds the automaton; a pattern that needs more keeps
	// Go's engines. The ruleset's largest needs far fewer.
	maxDFAStates = 2000
)

// match reports whether the pattern matches somewhere in s.
func (d *dfa) match(s string) bool {
	st := d.start
	next, class := d.next, &d.class
	for i := 0; i < len(s); i++ {
		st = next[st+int32(class[s[i]])]
		if st < 0 {
			return st == dfaMatched
		}
	}
	return d.atEnd[int(st)/d.nclass]
}

// Contexts of a position for empty-width assertions: what precedes it (or
// follows it), reduced to what the program's assertions distinguish.
const (
	ctxStart = iota // start of the subject (as the previous "byte")
	ctxNewline
	ctxWord
	ctxOther
	numCtx
)

// ctxRune is a rune of each context, for syntax.EmptyOpContext.
var ctxRune = [numCtx]rune{ctxStart: -1, ctxNewline: '\n', ctxWord: 'a', ctxOther: ' '}

type dfaBuilder struct {
	prog     *syntax.Prog
	anchored bool
	ctxOf    [256]uint8 // byte to its context, reduced
	d        *dfa
	rep      []byte     // a byte of each class
	sigs     [][]uint64 // by class: which consuming instructions match it
	consIdx  []uint32   // by pc: index of a consuming instruction in sigs
	kernels  [][]uint32
	prevCtx  []uint8
	index    map[string]int32
	// work space
	key   []byte
	seen  []uint32
	epoch uint32
	stack []uint32
	runes []uint32
}

// newDFA builds the automaton of a parsed Go form, or returns nil when it
// would be too large.
func newDFA(tree *syntax.Regexp) *dfa {
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return nil
	}
	b := &dfaBuilder{
		prog:  prog,
		d:     &dfa{},
		index: map[string]int32{},
		seen:  make([]uint32, len(prog.Inst)),
	}
	cond := prog.StartCond()
	if cond == ^syntax.EmptyOp(0) {
		// No match is possible.
		b.d.nclass = 1
		b.d.next = []int32{dfaDead}
		b.d.atEnd = []bool{false}
		return b.d
	}
	b.anchored = cond&syntax.EmptyBeginText != 0
	b.contexts()
	b.classes()
	b.d.start = b.intern([]uint32{uint32(prog.Start)}, ctxStart)
	var out []uint32
	for st := 0; st < len(b.kernels); st++ {
		if len(b.kernels) > maxDFAStates {
			return nil
		}
		kernel, prev := b.kernels[st], b.prevCtx[st]
		// The closure depends on the byte only through its context.
		var byCtx [numCtx]struct {
			done, matched bool
			runes         []uint32
		}
		for c := 0; c < b.d.nclass; c++ {
			by := b.rep[c]
			cl := &byCtx[b.ctxOf[by]]
			if !cl.done {
				cl.done = true
				cl.matched = b.closure(kernel, syntax.EmptyOpContext(ctxRune[prev], ctxRune[b.ctxOf[by]]))
				cl.runes = slices.Clone(b.runes)
			}
			if cl.matched {
				b.d.next = append(b.d.next, dfaMatched)
				continue
			}
			out = out[:0]
			sig := b.sigs[c]
			for _, pc := range cl.runes {
				if k := b.consIdx[pc]; sig[k/64]&(1<<(k%64)) != 0 {
					out = append(out, prog.Inst[pc].Out)
				}
			}
			if !b.anchored {
				// Unanchored: a match may also start after this byte.
				out = append(out, uint32(prog.Start))
			}
			if len(out) == 0 {
				b.d.next = append(b.d.next, dfaDead)
				continue
			}
			b.d.next = append(b.d.next, b.intern(out, b.ctxOf[by]))
		}
		b.d.atEnd = append(b.d.atEnd, b.closure(kernel, syntax.EmptyOpContext(ctxRune[prev], -1)))
	}
	if len(b.kernels) > maxDFAStates {
		return nil
	}
	n := int32(b.d.nclass)
	for i, st := range b.d.next {
		if st >= 0 {
			b.d.next[i] = st * n
		}
	}
	b.d.start *= n
	return b.d
}

// contexts reduces each byte's context to what the program's assertions
// can tell apart, so that states differing only there are merged.
func (b *dfaBuilder) contexts() {
	var used syntax.EmptyOp
	for _, inst := range b.prog.Inst {
		if inst.Op == syntax.InstEmptyWidth {
			used |= syntax.EmptyOp(inst.Arg)
		}
	}
	word := used&(syntax.EmptyWordBoundary|syntax.EmptyNoWordBoundary) != 0
	line := used&(syntax.EmptyBeginLine|syntax.EmptyEndLine) != 0
	for c := 0; c < 256; c++ {
		switch {
		case c == '\n' && line:
			b.ctxOf[c] = ctxNewline
		case word && syntax.IsWordChar(rune(c)):
			b.ctxOf[c] = ctxWord
		default:
			b.ctxOf[c] = ctxOther
		}
	}
}

// classes groups bytes that every instruction and the contexts treat
// alike.
func (b *dfaBuilder) classes() {
	var consuming []*syntax.Inst
	b.consIdx = make([]uint32, len(b.prog.Inst))
	for i := range b.prog.Inst {
		switch inst := &b.prog.Inst[i]; inst.Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			b.consIdx[i] = uint32(len(consuming))
			consuming = append(consuming, inst)
		}
	}
	// The bytes each instruction matches; many share a set (\S, [^,]).
	sets := make([][4]uint64, len(consuming))
	known := map[string][4]uint64{}
	for k, inst := range consuming {
		key := fmt.Sprint(inst.Op, syntax.Flags(inst.Arg)&syntax.FoldCase, inst.Rune)
		set, ok := known[key]
		if !ok {
			for c := 0; c < 256; c++ {
				if matchesByte(inst, byte(c)) {
					set[c/64] |= 1 << (c % 64)
				}
			}
			known[key] = set
		}
		sets[k] = set
	}
	ids := map[string]uint8{}
	words := (len(consuming) + 63) / 64
	key := make([]byte, 1+8*words)
	for c := 0; c < 256; c++ {
		sig := make([]uint64, words)
		for k := range consuming {
			if sets[k][c/64]&(1<<(c%64)) != 0 {
				sig[k/64] |= 1 << (k % 64)
			}
		}
		key[0] = b.ctxOf[c]
		for w, x := range sig {
			binary.LittleEndian.PutUint64(key[1+8*w:], x)
		}
		id, ok := ids[string(key)]
		if !ok {
			id = uint8(len(ids)) // at most 256 classes: one per byte
			ids[string(key)] = id
			b.rep = append(b.rep, byte(c))
			b.sigs = append(b.sigs, sig)
		}
		b.d.class[c] = id
	}
	b.d.nclass = len(ids)
}

// matchesByte reports whether a consuming instruction matches the rune of
// the byte's value.
func matchesByte(inst *syntax.Inst, c byte) bool {
	switch inst.Op {
	case syntax.InstRuneAny:
		return true
	case syntax.InstRuneAnyNotNL:
		return c != '\n'
	}
	return inst.MatchRune(rune(c))
}

// intern returns the state of a kernel (the instructions reached after a
// byte, before their empty transitions) and the context of that byte.
// The kernel may be a work buffer: it is copied when kept.
func (b *dfaBuilder) intern(kernel []uint32, prev uint8) int32 {
	slices.Sort(kernel)
	kernel = slices.Compact(kernel)
	b.key = append(b.key[:0], prev)
	for _, pc := range kernel {
		b.key = binary.LittleEndian.AppendUint32(b.key, pc)
	}
	if st, ok := b.index[string(b.key)]; ok {
		return st
	}
	st := int32(len(b.kernels))
	b.index[string(b.key)] = st
	b.kernels = append(b.kernels, slices.Clone(kernel))
	b.prevCtx = append(b.prevCtx, prev)
	return st
}

// closure follows the empty transitions from kernel under the assertions
// flags allows. It leaves the consuming instructions reached in b.runes
// and reports whether a match instruction is reached.
func (b *dfaBuilder) closure(kernel []uint32, flags syntax.EmptyOp) bool {
	b.epoch++
	b.runes = b.runes[:0]
	b.stack = append(b.stack[:0], kernel...)
	matched := false
	for len(b.stack) > 0 {
		pc := b.stack[len(b.stack)-1]
		b.stack = b.stack[:len(b.stack)-1]
		if b.seen[pc] == b.epoch {
			continue
		}
		b.seen[pc] = b.epoch
		switch inst := &b.prog.Inst[pc]; inst.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			b.stack = append(b.stack, inst.Out, inst.Arg)
		case syntax.InstCapture, syntax.InstNop:
			b.stack = append(b.stack, inst.Out)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(inst.Arg)&^flags == 0 {
				b.stack = append(b.stack, inst.Out)
			}
		case syntax.InstMatch:
			matched = true
		case syntax.InstFail:
		default:
			b.runes = append(b.runes, pc)
		}
	}
	return matched
}
