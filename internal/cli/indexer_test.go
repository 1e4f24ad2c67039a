package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// indexerDouble answers the two OpenSearch APIs tld uses: the legacy
// template (HEAD/PUT _template/NAME) and _bulk, whose NDJSON bodies it
// parses, keeping each document under its index and id.
type indexerDouble struct {
	mu        sync.Mutex
	templates map[string]string
	docs      map[string]map[string]json.RawMessage // index → id → source
	auth      []string
}

func (d *indexerDouble) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	user, _, _ := r.BasicAuth()
	d.auth = append(d.auth, user)
	switch {
	case strings.HasPrefix(r.URL.Path, "/_template/") && r.Method == http.MethodHead:
		if _, ok := d.templates[strings.TrimPrefix(r.URL.Path, "/_template/")]; !ok {
			w.WriteHeader(http.StatusNotFound)
		}
	case strings.HasPrefix(r.URL.Path, "/_template/") && r.Method == http.MethodPut:
		var body strings.Builder
		bufio.NewReader(r.Body).WriteTo(&body)
		d.templates[strings.TrimPrefix(r.URL.Path, "/_template/")] = body.String()
		fmt.Fprint(w, `{"acknowledged":true}`)
	case r.URL.Path == "/_bulk" && r.Method == http.MethodPost:
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		var items []string
		for sc.Scan() {
			var action map[string]struct {
				Index string `json:"_index"`
				ID    string `json:"_id"`
			}
			if err := json.Unmarshal(sc.Bytes(), &action); err != nil || !sc.Scan() {
				http.Error(w, `{"error":"bad bulk body"}`, http.StatusBadRequest)
				return
			}
			meta := action["index"]
			if d.docs[meta.Index] == nil {
				d.docs[meta.Index] = map[string]json.RawMessage{}
			}
			d.docs[meta.Index][meta.ID] = json.RawMessage(append([]byte(nil), sc.Bytes()...))
			items = append(items, fmt.Sprintf(`{"index":{"_index":%q,"_id":%q,"status":201,"result":"created"}}`, meta.Index, meta.ID))
		}
		fmt.Fprintf(w, `{"took":1,"errors":false,"items":[%s]}`, strings.Join(items, ","))
	default:
		http.Error(w, `{"error":"not in the double"}`, http.StatusNotFound)
	}
}

// TestAlertsGoToTheIndexerWhenAsked runs the quickstart with an
// <indexer> block that sends alerts: every alert lands, once, in the
// day's wazuh-alerts-4.x index under its event id, after Wazuh's template
// was installed; the password is sent but never printed.
func TestAlertsGoToTheIndexerWhenAsked(t *testing.T) {
	double := &indexerDouble{templates: map[string]string{}, docs: map[string]map[string]json.RawMessage{}}
	srv := httptest.NewServer(double)
	defer srv.Close()

	dir := t.TempDir()
	root := repoRoot(t)
	conf := filepath.Join(dir, "ossec.conf")
	writeFile(t, conf, fmt.Sprintf(`<ossec_config>
  <ruleset><rule_dir>%s</rule_dir></ruleset>
  <localfile><log_format>json</log_format><location>%s</location><only-future-events>no</only-future-events></localfile>
  <indexer>
    <enabled>yes</enabled>
    <send_alerts>yes</send_alerts>
    <hosts><host>%s</host></hosts>
    <username>tld</username>
    <password>indexer-s3cret</password>
  </indexer>
</ossec_config>`, filepath.Join(root, "etc", "quickstart", "rules"), filepath.Join(root, "etc", "quickstart", "events", "log-analytics-defender.json"), srv.URL))
	data := filepath.Join(dir, "var")
	code, stdout, stderr := runMain(t, "run", "-c", conf, "--data", data, "--once")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "indexer-s3cret") {
		t.Error("the indexer password was printed")
	}
	alerts := readAlerts(t, filepath.Join(data, "alerts", "alerts.json"))

	double.mu.Lock()
	defer double.mu.Unlock()
	if _, ok := double.templates["wazuh"]; !ok {
		t.Error("Wazuh's index template was not installed")
	}
	// One index per UTC day of the alerts (two if the run spans midnight).
	now := time.Now().UTC()
	days := map[string]bool{
		"wazuh-alerts-4.x-" + now.Format("2006.01.02"):                   true,
		"wazuh-alerts-4.x-" + now.AddDate(0, 0, -1).Format("2006.01.02"): true,
	}
	got := map[string]json.RawMessage{}
	for index, docs := range double.docs {
		if !days[index] {
			t.Errorf("index %q is not wazuh-alerts-4.x- and the alerts' UTC day", index)
		}
		for id, doc := range docs {
			got[id] = doc
		}
	}
	if len(got) != len(alerts) {
		t.Fatalf("indexed %d document(s), want %d", len(got), len(alerts))
	}
	for _, a := range alerts {
		var doc alertLine
		if err := json.Unmarshal(got[a.ID], &doc); err != nil || doc.Rule.ID != a.Rule.ID {
			t.Errorf("document %s: rule %q, %v", a.ID, doc.Rule.ID, err)
		}
	}
	for _, u := range double.auth {
		if u != "tld" {
			t.Errorf("a request authenticated as %q", u)
		}
	}
}
