// Package ruleset loads Wazuh-syntax decoders, rules and CDB lists into the
// structures analysis runs: a decoder tree and a rule tree ordered exactly
// as Wazuh's analysisd orders them.
package ruleset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/threatlockdown/tld/internal/xmlw"
)

// Source is one place rules, decoders and lists come from: the built-in
// ruleset (an fs.FS) or directories and files on disk.
type Source struct {
	// Name says where the files come from in messages ("built-in").
	Name string
	// FS, when set, holds the paths below; otherwise they are OS paths.
	FS fs.FS

	DecoderDirs  []string
	DecoderFiles []string
	RuleDirs     []string
	RuleFiles    []string
	Lists        []ListFile
	// Excludes are file base names (or paths ending in them) to skip.
	DecoderExclude []string
	RuleExclude    []string
	// Optional dirs are skipped silently when missing.
	Optional bool
}

// ListFile is a CDB list source file and the name rules use for it in
// <list> (Wazuh's "etc/lists/audit-keys").
type ListFile struct {
	Path string
	Name string
}

// Set is a loaded ruleset, ready for analysis.
type Set struct {
	Decoders  []*Decoder // top-level decoders in load order
	Rules     []*Rule    // top-level rules, siblings ordered by level
	ByID      map[int]*Rule
	Lists     map[string]*List
	AllRules  []*Rule // every rule in load order
	Problems  Problems
	FileCount int
	// DecoderCount is the number of <decoder> blocks read.
	DecoderCount int
	// DecoderNames holds every name a rule may use in <decoded_as>.
	DecoderNames map[string]bool
}

type file struct {
	src  *Source
	path string // path within FS or on disk
	disp string // for messages
}

func (f file) read() ([]byte, error) {
	if f.src.FS != nil {
		return fs.ReadFile(f.src.FS, f.path)
	}
	return os.ReadFile(f.path)
}

func excluded(p string, excludes []string) bool {
	base := path.Base(filepath.ToSlash(p))
	for _, e := range excludes {
		e = filepath.ToSlash(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if e == base || strings.HasSuffix(filepath.ToSlash(p), "/"+e) || e == filepath.ToSlash(p) {
			return true
		}
	}
	return false
}

// listFiles expands dirs (their *.xml files, sorted by name, as Wazuh
// loads them) and single files, dropping excluded ones.
func listFiles(c *collector, src *Source, dirs, files, excludes []string) []file {
	var out []file
	disp := func(p string) string {
		if src.FS != nil {
			return src.Name + ":" + p
		}
		return p
	}
	for _, d := range dirs {
		var names []string
		if src.FS != nil {
			entries, err := fs.ReadDir(src.FS, d)
			if err != nil {
				if !src.Optional {
					c.errorf(disp(d), "read directory: %v", err)
				}
				continue
			}
			for _, e := range entries {
				if !e.IsDir() && strings.HasSuffix(e.Name(), ".xml") {
					names = append(names, path.Join(d, e.Name()))
				}
			}
		} else {
			entries, err := os.ReadDir(d)
			if err != nil {
				if !(src.Optional && os.IsNotExist(err)) {
					c.errorf(d, "read directory: %v", err)
				}
				continue
			}
			for _, e := range entries {
				if !e.IsDir() && strings.HasSuffix(e.Name(), ".xml") {
					names = append(names, filepath.Join(d, e.Name()))
				}
			}
		}
		sort.Strings(names)
		for _, n := range names {
			if !excluded(n, excludes) {
				out = append(out, file{src: src, path: n, disp: disp(n)})
			}
		}
	}
	for _, f := range files {
		if !excluded(f, excludes) {
			out = append(out, file{src: src, path: f, disp: disp(f)})
		}
	}
	return out
}

func parseXML(c *collector, f file) []*xmlw.Node {
	data, err := f.read()
	if err != nil {
		c.errorf(f.disp, "read: %v", err)
		return nil
	}
	nodes, err := xmlw.Parse(f.disp, data)
	if err != nil {
		var se *xmlw.SyntaxError
		if errors.As(err, &se) {
			c.errorf(fmt.Sprintf("%s:%d", se.File, se.Line), "%s", se.Msg)
		} else {
			c.errorf(f.disp, "%v", err)
		}
		return nil
	}
	nodes, err = xmlw.ApplyVariables(nodes)
	if err != nil {
		c.errorf(f.disp, "%v", err)
		return nil
	}
	return nodes
}

// Load reads every source in order (decoders of all sources first, then
// lists, then rules) and returns the ruleset. When anything is wrong it
// returns a *LoadError listing every problem, and no Set.
func Load(sources ...Source) (*Set, error) {
	c := &collector{}
	set := &Set{ByID: make(map[int]*Rule), Lists: make(map[string]*List), DecoderNames: make(map[string]bool)}

	var decoders []*Decoder
	for i := range sources {
		src := &sources[i]
		for _, f := range listFiles(c, src, src.DecoderDirs, src.DecoderFiles, src.DecoderExclude) {
			set.FileCount++
			for _, n := range parseXML(c, f) {
				if n.Name != "decoder" {
					c.warnf(n.Pos(), "unexpected <%s> in a decoder file ignored", n.Name)
					continue
				}
				if d := parseDecoder(c, n); d != nil {
					decoders = append(decoders, d)
				}
			}
		}
	}
	set.Decoders = linkDecoders(c, decoders)
	set.DecoderCount = len(decoders)
	for _, name := range internalDecoders {
		set.DecoderNames[name] = true
	}
	for _, d := range decoders {
		set.DecoderNames[d.ReportedName] = true
		set.DecoderNames[d.Name] = true
	}

	for i := range sources {
		src := &sources[i]
		for _, l := range src.Lists {
			set.FileCount++
			loadList(c, src, l, set.Lists)
		}
	}

	b := &treeBuilder{c: c, set: set}
	for i := range sources {
		src := &sources[i]
		for _, f := range listFiles(c, src, src.RuleDirs, src.RuleFiles, src.RuleExclude) {
			set.FileCount++
			for _, n := range parseXML(c, f) {
				b.topLevel(n, f.disp)
			}
		}
	}

	set.Problems = c.problems
	if len(c.problems.Errors()) > 0 {
		return nil, &LoadError{Problems: c.problems}
	}
	return set, nil
}

// internalDecoders are the decoders analysisd defines in code for its own
// event types; rules may name them in <decoded_as>.
var internalDecoders = []string{
	"rootcheck", "syscheck_integrity_changed", "syscheck_deleted", "syscheck_new_entry",
	"syscheck_registry_key_modified", "syscheck_registry_key_deleted", "syscheck_registry_key_added",
	"syscheck_registry_value_modified", "syscheck_registry_value_deleted", "syscheck_registry_value_added",
	"hostinfo_modified", "hostinfo_new", "syscollector", "ciscat", "sca", "windows_eventchannel",
	"dbsync", "upgrade", "agent-upgrade", "task_manager", "yara",
}

type treeBuilder struct {
	c   *collector
	set *Set
}

func (b *treeBuilder) topLevel(n *xmlw.Node, file string) {
	switch n.Name {
	case "group":
		name, _ := n.Attr("name")
		for _, ch := range n.Children {
			switch ch.Name {
			case "rule":
				if r := parseRule(b.c, ch, name, file); r != nil {
					b.add(r)
				}
			case "group":
				// Nested groups are not Wazuh syntax, but their intent is clear.
				inner, _ := ch.Attr("name")
				for _, r := range ch.Children {
					if r.Name == "rule" {
						if rr := parseRule(b.c, r, name+","+inner, file); rr != nil {
							b.add(rr)
						}
					}
				}
			default:
				b.c.warnf(ch.Pos(), "unexpected <%s> inside <group> ignored", ch.Name)
			}
		}
	case "rule":
		b.c.errorf(n.Pos(), "<rule> outside a <group> block (Wazuh requires <group name=\"…\">)")
	default:
		b.c.warnf(n.Pos(), "unexpected <%s> in a rule file ignored", n.Name)
	}
}

// add places a rule in the tree as analysisd does: an overwrite replaces
// the rule with the same id in place; otherwise the rule becomes a child of
// its if_sid / if_level / if_group parents, or a top-level rule.
func (b *treeBuilder) add(r *Rule) {
	if r.DecodedAs != "" && !b.set.DecoderNames[r.DecodedAs] {
		b.c.errorf(r.Pos, "rule %d: <decoded_as>%s</decoded_as>: no decoder has that name", r.ID, r.DecodedAs)
	}
	for _, l := range r.Lists {
		if _, ok := b.set.Lists[listKey(l.Path)]; !ok && l.Path != "" {
			// analysisd does not load a rule whose list is missing.
			b.c.warnf(l.Pos, "rule %d: <list>%s</list>: no such list in <ruleset><list>; the rule is not loaded", r.ID, l.Path)
			return
		}
	}
	if old, dup := b.set.ByID[r.ID]; dup {
		if !r.Overwrite {
			// analysisd skips the second definition and goes on.
			b.c.warnf(r.Pos, "rule %d is already defined at %s; this one is skipped (use overwrite=\"yes\" to replace it)", r.ID, old.Pos)
			return
		}
		overwrite(old, r)
		return
	}
	if r.Overwrite {
		b.c.warnf(r.Pos, "rule %d has overwrite=\"yes\" but no earlier rule has that id; added as a new rule", r.ID)
	}
	b.set.ByID[r.ID] = r
	b.set.AllRules = append(b.set.AllRules, r)

	// if_matched_* rules hang below the rule or group they correlate with.
	if r.IfMatchedGroup != "" && len(r.IfSID) == 0 && r.IfGroup == "" {
		r.IfGroup = r.IfMatchedGroup
	}
	if r.IfMatchedSID != 0 && len(r.IfSID) == 0 && r.IfGroup == "" {
		r.IfSID = []int{r.IfMatchedSID}
	}

	switch {
	case r.ID < 10:
		// Ids 1–9 are analysisd's category templates: always top level.
		b.set.Rules = insertByLevel(b.set.Rules, r)
	case len(r.IfSID) > 0:
		for _, sid := range r.IfSID {
			if sid == r.ID {
				b.c.warnf(r.Pos, "rule %d: <if_sid> names the rule itself; that entry is ignored", r.ID)
				continue
			}
			parent, ok := b.set.ByID[sid]
			if !ok {
				b.c.errorf(r.Pos, "rule %d: <if_sid> names rule %d, which is not defined before it", r.ID, sid)
				continue
			}
			r.Parent = parent
			parent.Children = insertByLevel(parent.Children, r)
		}
	case r.IfLevel > 0:
		found := false
		b.walk(func(p *Rule) {
			if p != r && p.Level >= r.IfLevel {
				p.Children = insertByLevel(p.Children, r)
				found = true
			}
		})
		if !found {
			b.c.errorf(r.Pos, "rule %d: <if_level>%d: no earlier rule has that level or higher", r.ID, r.IfLevel)
		}
	case r.IfGroup != "":
		found := false
		b.walk(func(p *Rule) {
			if p != r && groupWordMatch(r.IfGroup, p.Groups) {
				p.Children = insertByLevel(p.Children, r)
				found = true
			}
		})
		if !found {
			b.c.errorf(r.Pos, "rule %d: <if_group>%s: no earlier rule is in that group", r.ID, r.IfGroup)
		}
	default:
		// A rule with no parent option hangs below the category template
		// (ids 1–9) of its category, when the ruleset has one.
		cat := categoryOf(r)
		for _, t := range b.set.Rules {
			if t.ID < 10 && categoryOf(t) == cat {
				r.Parent = t
				t.Children = insertByLevel(t.Children, r)
				return
			}
		}
		b.set.Rules = insertByLevel(b.set.Rules, r)
	}
}

// categoryOf is a rule's <category>, syslog by default.
func categoryOf(r *Rule) string {
	if r.Category == "" {
		return "syslog"
	}
	return r.Category
}

// walk visits every rule in the tree once (a rule with several parents
// appears once).
func (b *treeBuilder) walk(fn func(*Rule)) {
	seen := make(map[*Rule]bool)
	var visit func([]*Rule)
	visit = func(rs []*Rule) {
		for _, r := range rs {
			if seen[r] {
				continue
			}
			seen[r] = true
			fn(r)
			visit(r.Children)
		}
	}
	visit(b.set.Rules)
}

// groupWordMatch is if_group's test: any of the |-separated names is one of
// the rule's groups.
func groupWordMatch(want string, groups []string) bool {
	for _, w := range strings.Split(want, "|") {
		w = strings.TrimSpace(w)
		for _, g := range groups {
			if strings.EqualFold(g, w) {
				return true
			}
		}
	}
	return false
}

// insertByLevel inserts r before the first sibling with a lower sort key
// (see Rule.SortKey), so siblings are tried highest level first — level 0
// before all — and in load order among equals: Wazuh's rule list order.
func insertByLevel(list []*Rule, r *Rule) []*Rule {
	k := r.SortKey()
	i := sort.Search(len(list), func(i int) bool { return list[i].SortKey() < k })
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = r
	return list
}

// overwrite replaces what a rule tests and reports while keeping its place
// in the tree, its children and what it correlates with (if_matched_sid
// and if_matched_group), as Wazuh's overwrite="yes" does.
func overwrite(old, nw *Rule) {
	keep := *old
	*old = *nw
	old.Children, old.Parent = keep.Children, keep.Parent
	old.IfSID, old.IfGroup, old.IfLevel = keep.IfSID, keep.IfGroup, keep.IfLevel
	old.IfMatchedSID, old.IfMatchedGroup = keep.IfMatchedSID, keep.IfMatchedGroup
}

// Stats summarises a loaded ruleset.
func (s *Set) Stats() string {
	return fmt.Sprintf("%d rules, %d decoders, %d lists from %d files", len(s.AllRules), s.DecoderCount, len(s.Lists), s.FileCount)
}
