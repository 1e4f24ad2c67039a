package osregex

import "testing"

var sshdLines = []string{
	"Oct 15 21:07:00 linux-server sshd[29205]: Invalid user blabla from 192.168.2.24 port 51234",
	"Failed password for invalid user admin from 10.0.0.5 port 4242 ssh2",
	"pam_unix(sshd:session): session opened for user root by (uid=0)",
}

var benchPatterns = []struct{ name, pattern string }{
	{"prematch", `^sshd[\d+]: `},
	{"failed-password", `^Failed \S+ for invalid user (\S+) from (\S+) port (\d+)`},
	{"invalid-user", `^Invalid user (\S+) from (\S+)|^Failed \S+ for (\S+) from (\S+) port (\d+)`},
	{"dot-star", `for user (\.*) by`},
	{"literal", `session opened`},
}

func BenchmarkMatch(b *testing.B) {
	for _, bp := range benchPatterns {
		re, err := Compile(bp.pattern)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bp.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, l := range sshdLines {
					re.Match(l)
				}
			}
		})
	}
}

func BenchmarkExecute(b *testing.B) {
	for _, bp := range benchPatterns {
		re, err := Compile(bp.pattern)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bp.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, l := range sshdLines {
					re.Execute(l)
				}
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(benchPatterns[2].pattern); err != nil {
			b.Fatal(err)
		}
	}
}
