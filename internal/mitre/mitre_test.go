package mitre

import "testing"

func TestEmbeddedTableResolvesTechniquesAndTactics(t *testing.T) {
	tb := Default()
	if tb.Len() < 600 || len(tb.Tactics) != 14 {
		t.Fatalf("table has %d techniques and %d tactics", tb.Len(), len(tb.Tactics))
	}
	if tb.Attribution == "" {
		t.Error("MITRE's attribution must travel with the table")
	}
	cases := []struct {
		id, name string
		tactics  []string
	}{
		{"T1651", "Cloud Administration Command", []string{"Execution"}},
		{"t1098.004", "SSH Authorized Keys", []string{"Persistence", "Privilege Escalation"}},
		{"T1609", "Container Administration Command", []string{"Execution"}},
	}
	for _, c := range cases {
		te, ok := tb.Lookup(c.id)
		if !ok || te.Name != c.name || len(te.Tactics) != len(c.tactics) {
			t.Errorf("Lookup(%s) = %+v, %v", c.id, te, ok)
			continue
		}
		for i := range c.tactics {
			if te.Tactics[i] != c.tactics[i] {
				t.Errorf("%s tactics %v, want %v", c.id, te.Tactics, c.tactics)
			}
		}
	}
	if _, ok := tb.Lookup("T9999"); ok {
		t.Error("an unknown id was found")
	}
}
