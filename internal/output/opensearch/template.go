package opensearch

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

// templateJSON is the legacy index template for the alert indices. Its
// index pattern and shard settings are filled in from Options.
//
// It is a legacy template (PUT _template/<name>) rather than a composable
// one (PUT _index_template/<name>) on purpose: Wazuh 4.x installs its own
// alert template as the legacy template "wazuh" through Filebeat, and
// OpenSearch 2.x still accepts both kinds. Using the same kind and name
// means there is only ever one template called "wazuh" for these indices;
// a composable template would silently take precedence over Wazuh's legacy
// one and make `GET _template/wazuh` show a template that no longer applies.
//
//go:embed template.json
var templateJSON []byte

// Template returns the index template body New installs for these options:
// the index pattern follows IndexPrefix, and the shard and replica counts
// follow Shards and Replicas.
func Template(opts Options) ([]byte, error) {
	opts = opts.withDefaults()
	var t map[string]any
	if err := json.Unmarshal(templateJSON, &t); err != nil {
		return nil, fmt.Errorf("read the embedded index template: %w", err)
	}
	t["index_patterns"] = []string{opts.IndexPrefix + "*"}
	settings, ok := t["settings"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("read the embedded index template: no settings object")
	}
	index, ok := settings["index"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("read the embedded index template: no settings.index object")
	}
	index["number_of_shards"] = strconv.Itoa(opts.Shards)
	index["number_of_replicas"] = strconv.Itoa(opts.Replicas)
	if opts.Replicas > 0 {
		// An explicit replica count replaces Wazuh's "0-1": one replica
		// as soon as a second node joins.
		index["auto_expand_replicas"] = "false"
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode the index template: %w", err)
	}
	return b, nil
}

// installTemplate puts the index template, or leaves an existing one alone
// unless TemplateOverwrite is set (Wazuh's own template is a superset of
// ours, with GeoLocation and module fields, and should not be replaced by
// accident).
func (o *Output) installTemplate(ctx context.Context) error {
	name := o.opts.TemplateName
	if !o.opts.TemplateOverwrite {
		resp, err := o.client.Template.Exists(ctx, opensearchapi.TemplateExistsReq{Template: name})
		switch {
		case resp != nil && resp.StatusCode == http.StatusOK:
			o.logger.Info("index template already present; leaving it as it is", "template", name)
			return nil
		case resp != nil && resp.StatusCode == http.StatusNotFound:
			// Not there yet: install it below.
		case err != nil:
			return fmt.Errorf("check index template %q: %w", name, err)
		default:
			return fmt.Errorf("check index template %q: unexpected status %d", name, resp.StatusCode)
		}
	}
	body, err := Template(o.opts)
	if err != nil {
		return err
	}
	// The client marks Template deprecated in favour of IndexTemplate;
	// the legacy API is the point here (see templateJSON).
	resp, err := o.client.Template.Create(ctx, opensearchapi.TemplateCreateReq{
		Template: name,
		Body:     bytes.NewReader(body),
	})
	if err != nil {
		status := 0
		if raw := resp.Inspect().Response; raw != nil {
			status = raw.StatusCode
		}
		if status != 0 {
			err = statusError(status, err)
		}
		return fmt.Errorf("install index template %q for %s*: %w", name, o.opts.IndexPrefix, err)
	}
	if !resp.Acknowledged {
		return fmt.Errorf("install index template %q for %s*: the cluster did not acknowledge it", name, o.opts.IndexPrefix)
	}
	o.logger.Info("index template installed", "template", name, "pattern", o.opts.IndexPrefix+"*")
	return nil
}
