package config

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/threatlockdown/tld/internal/xmlw"
)

// Ruleset is the <ruleset> section (OSSEC's <rules> is read the same way):
// where decoders, rules and CDB lists come from. Several blocks merge.
//
// Wazuh's stock configuration names its own ruleset, "ruleset/decoders" and
// "ruleset/rules" under its home. ThreatLockDown ships its own built-in
// ruleset instead: those two directories set BuiltinDecoders and
// BuiltinRules (with a warning) rather than being read from disk. Like
// Wazuh, a file that names no decoder directory (or no rule directory) gets
// the stock one, so the built-in ruleset. A file without any <ruleset> gets
// the built-in ruleset and the user directories HOME/etc/decoders and
// HOME/etc/rules, which may be missing. Any other directory named must
// exist.
type Ruleset struct {
	// Pos is the first <ruleset> block; zero when the file has none.
	Pos Pos
	// BuiltinDecoders and BuiltinRules load tld's built-in ruleset.
	BuiltinDecoders bool
	BuiltinRules    bool
	// WazuhDecoders and WazuhRules are set when the stock directories
	// name a Wazuh installation's ruleset that exists on disk: it is read
	// from there (it is in DecoderDirs / RuleDirs) instead of tld's
	// built-in files of that kind.
	WazuhDecoders bool
	WazuhRules    bool
	// DecoderDirs and RuleDirs are read in order; each file matching the
	// directory's pattern is loaded, in file-name order.
	DecoderDirs []RulesetDir
	RuleDirs    []RulesetDir
	// DecoderFiles (<decoder_include>, OSSEC's <decoder>) and RuleFiles
	// (<rule_include>, OSSEC's <include> and <rule>) load single files.
	DecoderFiles []RulesetFile
	RuleFiles    []RulesetFile
	// DecoderExclude and RuleExclude name files not to load: a bare file
	// name (Path empty) in any directory, or a path, which Wazuh compares with
	// "directory as written/file name" and which Path holds resolved.
	DecoderExclude []RulesetFile
	RuleExclude    []RulesetFile
	// Lists are CDB lists, named without extension (<list>).
	Lists []RulesetFile
}

// RulesetDir is a <decoder_dir> or <rule_dir>.
type RulesetDir struct {
	Pos Pos
	// Value is the directory as written; Path is Value resolved against Home.
	Value string
	Path  string
	// Pattern is the OS_Regex pattern (Wazuh's osregex syntax) that a file's
	// path, "Value/name", must match to be loaded: the pattern attribute, by
	// default ".xml$".
	Pattern string
	// Optional is set for the default user directories: no error when the
	// directory is missing.
	Optional bool
}

// RulesetFile is a single file of the ruleset.
type RulesetFile struct {
	Pos Pos
	// Value is the setting as written; Path is Value resolved against Home.
	Value string
	Path  string
	// Builtin is set for a rule or decoder file of Wazuh's stock ruleset,
	// written as a bare file name (Wazuh looks it up in ruleset/rules or
	// ruleset/decoders) or under "ruleset/": it names a file of tld's
	// built-in ruleset, and Path is empty.
	Builtin bool
}

const (
	stockDecoderDir = "ruleset/decoders"
	stockRuleDir    = "ruleset/rules"
	defaultPattern  = ".xml$"
)

// rulesetState is what the decoder remembers across <ruleset> blocks.
type rulesetState struct {
	seen             bool
	stockDecoders    bool
	stockRules       bool
	decoderDirsNamed bool
	ruleDirsNamed    bool
}

func (d *decoder) ruleset(n *xmlw.Node) {
	rs := &d.cfg.Ruleset
	if !rs.Pos.IsValid() {
		rs.Pos = pos(n)
	}
	st := &d.rs
	st.seen = true
	for _, ch := range n.Children {
		switch ch.Name {
		case "decoder_dir", "rule_dir":
			d.attrs(ch, "pattern")
			v, ok := d.text(ch)
			if !ok {
				continue
			}
			if v == "" {
				d.c.errorf(pos(ch), "<%s> is empty", ch.Name)
				continue
			}
			pattern := defaultPattern
			for _, a := range ch.Attrs {
				if strings.EqualFold(a.Name, "pattern") {
					pattern = a.Value
				}
			}
			if pattern == "" {
				d.c.errorf(pos(ch), "<%s> has an empty pattern", ch.Name)
				continue
			}
			stock := stockDecoderDir
			if ch.Name == "rule_dir" {
				stock = stockRuleDir
				st.ruleDirsNamed = true
			} else {
				st.decoderDirsNamed = true
			}
			if filepath.ToSlash(filepath.Clean(v)) == stock && isDir(d.cfg.resolve(v)) {
				// A Wazuh installation's own ruleset is on disk: it is read
				// as is, in place of ThreatLockDown's built-in ones of
				// that kind, so an existing setup gives Wazuh's results.
				if ch.Name == "rule_dir" {
					rs.WazuhRules = true
				} else {
					rs.WazuhDecoders = true
				}
			} else if filepath.ToSlash(filepath.Clean(v)) == stock {
				what := "decoders"
				if ch.Name == "rule_dir" {
					st.stockRules = true
					what = "rules"
				} else {
					st.stockDecoders = true
				}
				d.c.warnf(pos(ch), "%s is Wazuh's stock %s directory: ThreatLockDown's built-in %s are used instead", v, what, what)
				continue
			}
			dir := RulesetDir{Pos: pos(ch), Value: v, Path: d.cfg.resolve(v), Pattern: pattern}
			d.checkDir(dir, ch.Name)
			if ch.Name == "rule_dir" {
				rs.RuleDirs = append(rs.RuleDirs, dir)
			} else {
				rs.DecoderDirs = append(rs.DecoderDirs, dir)
			}
		case "decoder_include", "decoder":
			if f, ok := d.rulesetFile(ch, stockDecoderDir); ok {
				rs.DecoderFiles = append(rs.DecoderFiles, f)
			}
		case "rule_include", "include", "rule":
			if f, ok := d.rulesetFile(ch, stockRuleDir); ok {
				rs.RuleFiles = append(rs.RuleFiles, f)
			}
		case "decoder_exclude", "rule_exclude", "list":
			d.attrs(ch)
			v, ok := d.text(ch)
			if !ok {
				continue
			}
			if v == "" {
				d.c.errorf(pos(ch), "<%s> is empty", ch.Name)
				continue
			}
			f := RulesetFile{Pos: pos(ch), Value: v, Path: d.cfg.resolve(v)}
			if ch.Name != "list" && !strings.Contains(v, "/") {
				f.Path = "" // a bare file name excludes that name in any directory
			}
			switch ch.Name {
			case "decoder_exclude":
				rs.DecoderExclude = append(rs.DecoderExclude, f)
			case "rule_exclude":
				rs.RuleExclude = append(rs.RuleExclude, f)
			default:
				rs.Lists = append(rs.Lists, f)
			}
		default:
			d.unknown(ch, n)
		}
	}
}

// rulesetFile reads a single rule or decoder file setting. Like Wazuh, a
// bare file name is looked up in the stock directory.
func (d *decoder) rulesetFile(n *xmlw.Node, stockDir string) (RulesetFile, bool) {
	d.attrs(n)
	v, ok := d.text(n)
	if !ok {
		return RulesetFile{}, false
	}
	if v == "" {
		d.c.errorf(pos(n), "<%s> is empty", n.Name)
		return RulesetFile{}, false
	}
	f := RulesetFile{Pos: pos(n), Value: v}
	slashed := filepath.ToSlash(filepath.Clean(v))
	if !strings.Contains(v, "/") || strings.HasPrefix(slashed, "ruleset/") {
		f.Builtin = true
		return f, true
	}
	f.Path = d.cfg.resolve(v)
	return f, true
}

func (d *decoder) checkDir(dir RulesetDir, tag string) {
	fi, err := os.Stat(dir.Path)
	switch {
	case err != nil && os.IsNotExist(err):
		d.c.errorf(dir.Pos, "<%s> %s: directory %s does not exist", tag, dir.Value, dir.Path)
	case err != nil:
		d.c.errorf(dir.Pos, "<%s> %s: %v", tag, dir.Value, err)
	case !fi.IsDir():
		d.c.errorf(dir.Pos, "<%s> %s: %s is not a directory", tag, dir.Value, dir.Path)
	}
}

// finishRuleset applies Wazuh's defaults once every block is read.
func (d *decoder) finishRuleset() {
	rs := &d.cfg.Ruleset
	st := d.rs
	if !st.seen {
		rs.BuiltinDecoders, rs.BuiltinRules = true, true
		rs.DecoderDirs = []RulesetDir{{Value: "etc/decoders", Path: d.cfg.resolve("etc/decoders"), Pattern: defaultPattern, Optional: true}}
		rs.RuleDirs = []RulesetDir{{Value: "etc/rules", Path: d.cfg.resolve("etc/rules"), Pattern: defaultPattern, Optional: true}}
		return
	}
	rs.BuiltinDecoders = st.stockDecoders || !st.decoderDirsNamed
	rs.BuiltinRules = st.stockRules || !st.ruleDirsNamed
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
