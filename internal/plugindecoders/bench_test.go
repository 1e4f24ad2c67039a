package plugindecoders

import "testing"

// nopFields discards fields, so that benchmarks measure the plugins alone.
type nopFields struct{}

func (nopFields) SetStatic(string, string)  {}
func (nopFields) AddDynamic(string, string) {}
func (nopFields) HasRule(string) bool       { return true }

func benchmarkPlugin(b *testing.B, name, log string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(log)))
	var f nopFields
	for b.Loop() {
		Decode(name, log, f)
	}
}

func BenchmarkPF(b *testing.B) { benchmarkPlugin(b, PF, samplePF) }

func BenchmarkSonicWall(b *testing.B) { benchmarkPlugin(b, SonicWall, sonicOpened) }

func BenchmarkSonicWallProxy(b *testing.B) { benchmarkPlugin(b, SonicWall, sonicWebSiteHit) }

func BenchmarkSymantecWS(b *testing.B) {
	benchmarkPlugin(b, SymantecWS, "20070717,73614,1=5,11=1.2.3.4,1106=News,60=http://news.bbc.co.uk/,10=userX,1000=212.58.240.42,2=27")
}

func BenchmarkOSSECAlert(b *testing.B) { benchmarkPlugin(b, OSSECAlert, sampleAlert) }
