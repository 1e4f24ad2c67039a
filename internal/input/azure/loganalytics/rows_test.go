package loganalytics

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestParseResultCutsRowsAsJSONWould(t *testing.T) {
	tests := []struct {
		name string
		body string
		rows int
	}{
		{"compact", `{"tables":[{"name":"PrimaryResult","columns":[{"name":"a","type":"string"},{"name":"TldIngestionTime","type":"datetime"}],"rows":[["x","2024-01-01T00:00:00Z"],["y","2024-01-01T00:00:01Z"]]}]}`, 2},
		{"indented, members in another order, strings with escapes and brackets", `{
  "tables": [ {
    "rows": [ [ "a \"[quoted]\" \\", "2024-01-01T00:00:00Z" ] ,
              [ "{not an object}", "2024-01-01T00:00:02Z" ] ],
    "columns": [ {"type":"string","name":"a"}, {"name":"TldIngestionTime","type":"datetime"} ],
    "name": "PrimaryResult" } ] }`, 2},
		{"a partial error next to the tables", `{"tables":[{"name":"PrimaryResult","columns":[{"name":"TldIngestionTime","type":"datetime"}],"rows":[]}],"error":{"code":"PartialError","message":"m","details":[{"code":"EngineError","innererror":{"code":"-1","message":"E_QUERY_RESULT_SET_TOO_LARGE"}}]}}`, 0},
		{"no rows", `{"tables":[{"name":"PrimaryResult","columns":[{"name":"TldIngestionTime","type":"datetime"}],"rows":null}]}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := parseResult([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			l, err := newLayout(res.Tables[0].Columns)
			if err != nil {
				t.Fatal(err)
			}
			refs, err := indexRows(res.Tables[0].Rows, l, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != tt.rows {
				t.Fatalf("%d rows, want %d", len(refs), tt.rows)
			}
			var std struct {
				Tables []struct {
					Rows [][]json.RawMessage `json:"rows"`
				} `json:"tables"`
			}
			if err := json.Unmarshal([]byte(tt.body), &std); err != nil {
				t.Fatal(err)
			}
			var vals [][]byte
			for i, ref := range refs {
				vals, _ = rowAt(res.Tables[0].Rows, ref.off, vals)
				for j, v := range vals {
					if !bytes.Equal(v, std.Tables[0].Rows[i][j]) {
						t.Errorf("row %d value %d = %s, want %s", i, j, v, std.Tables[0].Rows[i][j])
					}
				}
			}
			if (res.Error != nil) != hasSub(tt.body, `"error"`) {
				t.Errorf("error member: got %v", res.Error)
			}
			if res.Error != nil && !res.Error.tooLarge() {
				t.Errorf("%s not seen as the size limit", res.Error)
			}
		})
	}
}

func hasSub(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }

func TestRowsOutOfOrderAreSorted(t *testing.T) {
	raw := []byte(`[["b","2024-01-01T00:00:02Z"],["a","2024-01-01T00:00:01Z"],["c","2024-01-01T00:00:02Z"]]`)
	l, _ := newLayout([]resultColumn{{Name: "v", Type: "string"}, {Name: ingestColumn, Type: "datetime"}})
	refs, err := indexRows(raw, l, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	var vals [][]byte
	for _, r := range refs {
		vals, _ = rowAt(raw, r.off, vals)
		got += string(vals[0])
	}
	if got != `"a""b""c"` {
		t.Errorf("order %s, want a b c (stable)", got)
	}
}

// FuzzRowScan checks the row scanner against encoding/json on valid rows.
func FuzzRowScan(f *testing.F) {
	for _, s := range []string{`[["a",1,null,true,{"k":[1,"]"]},"2024-01-01T00:00:00Z"]]`, `[]`, `[[ "\\\"" , "2024-01-01T00:00:00Z" ]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var std [][]json.RawMessage
		if json.Unmarshal([]byte(s), &std) != nil {
			return
		}
		var got [][]string
		err := func() error {
			i := skipSpace([]byte(s), 0)
			return eachElement([]byte(s)[i:], func(row []byte) error {
				if len(row) == 0 || row[0] != '[' {
					return nil
				}
				vals, _ := rowAt(row, 0, nil)
				var r []string
				for _, v := range vals {
					r = append(r, string(v))
				}
				got = append(got, r)
				return nil
			})
		}()
		if err != nil {
			t.Fatalf("scan %q: %v", s, err)
		}
		for i := range std {
			if std[i] == nil || i >= len(got) {
				continue
			}
			if len(got[i]) != len(std[i]) {
				t.Fatalf("row %d of %q: %d values, want %d", i, s, len(got[i]), len(std[i]))
			}
			for j := range std[i] {
				var a, b any
				json.Unmarshal(std[i][j], &a)
				if err := json.Unmarshal([]byte(got[i][j]), &b); err != nil {
					t.Fatalf("row %d value %d of %q: %q is not a value", i, j, s, got[i][j])
				}
			}
		}
	})
}
