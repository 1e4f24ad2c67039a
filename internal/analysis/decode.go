package analysis

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/threatlockdown/tld/internal/plugindecoders"
	"github.com/threatlockdown/tld/internal/ruleset"
	"github.com/threatlockdown/tld/internal/ruleset/expr"
)

// decoderLists splits top-level decoders as analysisd does: an event with
// a program name (from its syslog header) is tried only against decoders
// that declare <program_name>; an event without one only against those
// that do not.
type decoderLists struct {
	withProgram    []*ruleset.Decoder
	withoutProgram []*ruleset.Decoder

	// byProgram memoises, per program name, the decoders of withProgram
	// whose <program_name> matches it, in order: program names repeat, and
	// this turns a hundred pattern tests per event into one map lookup.
	byProgram      sync.Map // string → []*ruleset.Decoder
	byProgramCount atomic.Int64
}

// maxProgramNames bounds the memo; past it, names are matched directly.
const maxProgramNames = 4096

func newDecoderLists(roots []*ruleset.Decoder) *decoderLists {
	l := &decoderLists{}
	for _, d := range roots {
		if d.ProgramName != nil {
			l.withProgram = append(l.withProgram, d)
		} else {
			l.withoutProgram = append(l.withoutProgram, d)
		}
	}
	return l
}

// afterMatch turns the end of a match in log[base:] into an offset in log.
// expr reports the position where analysisd continues (it already steps
// past the last matched character as analysisd does).
func afterMatch(base, end, n int) int {
	pos := base + end
	if pos > n {
		pos = n
	}
	if pos < base {
		pos = base
	}
	return pos
}

// matchEnd runs a prematch and returns where the text after it starts.
func (e *Engine) matchEnd(x *expr.Expr, s string) (int, bool) {
	end, ok, err := x.MatchEnd(s)
	if err != nil {
		e.noteRegexError(x, err)
		return 0, false
	}
	if end < 0 {
		end = 0
	}
	return end, ok
}

// exec runs an expression on s and counts pcre2 time-outs instead of
// failing the event.
func (e *Engine) exec(x *expr.Expr, s string) (caps []string, end int, ok bool) {
	caps, end, ok, err := x.Execute(s)
	if err != nil {
		e.noteRegexError(x, err)
		return nil, 0, false
	}
	return caps, end, ok
}

func (e *Engine) matches(x *expr.Expr, s string) bool {
	ok, err := x.Match(s)
	if err != nil {
		e.noteRegexError(x, err)
		return false
	}
	return ok
}

// decode runs the decoder tree on d, following analysisd's DecodeEvent: the
// first top-level decoder whose program name and prematch match wins; then
// its first child whose prematch matches (or that has none); then the
// child's regex chain, or a plugin.
func (e *Engine) decode(d *Decoded) {
	log := d.Log
	roots := e.decoders.withoutProgram
	if d.Header.ProgramName != "" {
		roots = e.programDecoders(d.Header.ProgramName)
	}
	for _, node := range roots {
		pmatch := 0
		if node.Prematch != nil {
			end, ok := e.matchEnd(node.Prematch, log)
			if !ok {
				continue
			}
			pmatch = afterMatch(0, end, len(log))
		}
		info := node // what analysisd calls decoder_info
		d.Decoder = info
		afterParent, afterPrematch := 0, pmatch
		cmatch := pmatch

		var nnode *ruleset.Decoder
		idx := -1
		if len(node.Children) == 0 {
			nnode = node
		} else {
			children := node.Children
			for i := 0; i < len(children); {
				c := children[i]
				if c.Prematch != nil {
					start := 0
					if c.PrematchOffset == ruleset.AfterParent {
						start = pmatch
					}
					if end, ok := e.matchEnd(c.Prematch, log[start:]); ok {
						cmatch = afterMatch(start, end, len(log))
						info = c
						d.Decoder = c
						afterParent, afterPrematch = pmatch, cmatch
						nnode, idx = c, i
						break
					}
				} else {
					cmatch = pmatch
					nnode, idx = c, i
					break
				}
				// The rest of a regex chain belongs to this child: skip it.
				if c.GetNext {
					for i < len(children) && children[i].GetNext {
						i++
					}
					if i >= len(children) {
						return
					}
				}
				i++
			}
			if nnode == nil {
				return
			}
		}

		regexPrev := -1
		for {
			switch {
			case nnode.Plugin != "":
				e.runPlugin(d, nnode.Plugin, info, log, afterParent, afterPrematch)
			case nnode.Regex != nil:
				start := 0
				switch nnode.RegexOffset {
				case ruleset.AfterParent:
					start = pmatch
				case ruleset.AfterPrematch:
					start = cmatch
				case ruleset.AfterRegex:
					start = cmatch
					if regexPrev >= 0 {
						start = regexPrev
					}
				}
				caps, end, ok := e.exec(nnode.Regex, log[start:])
				if !ok {
					if nnode.GetNext && idx+1 < len(node.Children) {
						idx++
						nnode = node.Children[idx]
						continue
					}
					return
				}
				regexPrev = afterMatch(start, end, len(log))
				for i, v := range caps {
					if i >= len(nnode.Order) {
						break
					}
					of := nnode.Order[i]
					if of.Static != ruleset.NotStatic {
						d.SetStatic(of.Static, v)
					} else {
						d.AddDynamic(of.Name, v, false)
					}
				}
			default:
				return
			}
			if !nnode.GetNext || idx < 0 || idx+1 >= len(node.Children) {
				return
			}
			idx++
			nnode = node.Children[idx]
		}
	}
}

// programDecoders returns the top-level decoders whose <program_name>
// matches name, in load order.
func (e *Engine) programDecoders(name string) []*ruleset.Decoder {
	l := e.decoders
	if v, ok := l.byProgram.Load(name); ok {
		return v.([]*ruleset.Decoder)
	}
	var out []*ruleset.Decoder
	for _, d := range l.withProgram {
		if e.matches(d.ProgramName, name) {
			out = append(out, d)
		}
	}
	if l.byProgramCount.Load() < maxProgramNames {
		if _, loaded := l.byProgram.LoadOrStore(name, out); !loaded {
			l.byProgramCount.Add(1)
		}
	}
	return out
}

// pluginFields lets a plugin decoder fill an event's fields.
type pluginFields struct {
	d   *Decoded
	set *ruleset.Set
}

func (p pluginFields) SetStatic(name, value string) {
	if f := ruleset.LookupStatic(name); f != ruleset.NotStatic {
		p.d.SetStatic(f, value)
		return
	}
	p.d.AddDynamic(name, value, false)
}

func (p pluginFields) AddDynamic(name, value string) { p.d.AddDynamic(name, value, false) }

// HasRule lets OSSECAlert_Decoder check a forwarded alert's rule id the
// way analysisd looks it up: by its exact decimal text.
func (p pluginFields) HasRule(id string) bool {
	n, err := strconv.Atoi(id)
	if err != nil || strconv.Itoa(n) != id {
		return false
	}
	_, ok := p.set.ByID[n]
	return ok
}

func (e *Engine) runPlugin(d *Decoded, plugin string, info *ruleset.Decoder, log string, afterParent, afterPrematch int) {
	input := log
	switch info.PluginOffset {
	case ruleset.AfterParent:
		input = log[afterParent:]
	case ruleset.AfterPrematch:
		input = log[afterPrematch:]
	}
	// The plugin is the one named by the decoder that ran it; the offset
	// and null handling come from decoder_info, as in analysisd.
	switch plugin {
	case "JSON_Decoder":
		if err := decodeJSON(d, input, info.JSONNull); err != nil {
			e.stats.malformedJSON.Add(1)
		}
	default:
		// The other plugins read the whole log, not the plugin offset, as
		// their C originals read lf->log.
		res, ok := plugindecoders.Decode(plugin, log, pluginFields{d: d, set: e.set})
		if !ok {
			e.stats.unsupportedPlugin.Add(1)
			return
		}
		if res.Type != "" {
			d.typeOverride = res.Type
		}
		if res.Relocated {
			d.Event.Location = res.NewLocation(d.Event.Location)
			d.Header.Hostname = d.Event.Location
		}
		if res.LogReplaced {
			d.Log, d.FullLog = res.Log, res.Log
		}
		d.generatedRule = res.GeneratedRule
	}
}
