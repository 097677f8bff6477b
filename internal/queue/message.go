package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// MaxMessageSize is the largest encoded message, in bytes. It is SQS's
// historical limit (256 KiB), which every backend honours so that a job
// accepted by one is accepted by all.
const MaxMessageSize = 256 << 10

// Encode returns the version 1 JSON encoding of m: one object, keys in the
// documented order, created_at in UTC, config compacted. It returns an
// EINVALID *patchpanda.Error naming every bad field when m is not a valid
// version 1 message (see Validate), or when its config holds something that
// looks like a secret, and an ETOOLARGE one when the result would exceed
// MaxMessageSize.
func Encode(m patchpanda.Message) ([]byte, error) {
	if err := Validate(m); err != nil {
		return nil, err
	}
	if path, ok := findSecret(m.Config); ok {
		return nil, patchpanda.Errorf(patchpanda.EINVALID,
			"queue: message %s: config field %s looks like a secret; messages never carry secrets (the worker asks the relay for credentials)", m.ID, path)
	}
	var config bytes.Buffer
	if err := json.Compact(&config, m.Config); err != nil {
		// Validate has checked the config, so this is a bug.
		return nil, fmt.Errorf("queue: encode message %s: compact config: %w", m.ID, err)
	}
	m.Config = config.Bytes()
	m.CreatedAt = m.CreatedAt.UTC()

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("queue: encode message %s: %w", m.ID, err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) > MaxMessageSize {
		return nil, patchpanda.Errorf(patchpanda.ETOOLARGE,
			"queue: message %s is %d bytes encoded, more than the %d a queue message may be (is the config that large?)", m.ID, len(b), MaxMessageSize)
	}
	return b, nil
}

// Decode parses and validates a message. Fields it does not know are
// ignored, so that version 1 can gain optional fields; a change that old
// readers must not ignore gets a new version. It returns an EINVALID
// *patchpanda.Error when b is not JSON (with the byte offset), when a field
// has the wrong type (with its name), when the version is missing or is not
// 1, or when Validate rejects the message.
func Decode(b []byte) (patchpanda.Message, error) {
	var probe struct {
		Version *json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return patchpanda.Message{}, decodeError(err)
	}
	if probe.Version == nil {
		return patchpanda.Message{}, patchpanda.Errorf(patchpanda.EINVALID, "queue: decode message: field version is missing (this relay reads version %d)", patchpanda.MessageVersion)
	}
	var version int
	if err := json.Unmarshal(*probe.Version, &version); err != nil {
		return patchpanda.Message{}, patchpanda.Errorf(patchpanda.EINVALID, "queue: decode message: field version is %s, not a whole number", truncate(string(*probe.Version), 20))
	}
	if version != patchpanda.MessageVersion {
		return patchpanda.Message{}, patchpanda.Errorf(patchpanda.EINVALID, "queue: decode message: version %d is not supported (this relay reads version %d)", version, patchpanda.MessageVersion)
	}

	var m patchpanda.Message
	if err := json.Unmarshal(b, &m); err != nil {
		return patchpanda.Message{}, decodeError(err)
	}
	if err := Validate(m); err != nil {
		return patchpanda.Message{}, err
	}
	return m, nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return patchpanda.Errorf(patchpanda.EINVALID, "queue: decode message: at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return patchpanda.Errorf(patchpanda.EINVALID, "queue: decode message: want a JSON object, got %s", typ.Value)
		}
		return patchpanda.Errorf(patchpanda.EINVALID, "queue: decode message: field %s: want %s, got %s", field, typ.Type, typ.Value)
	default:
		var perr *time.ParseError
		if errors.As(err, &perr) {
			return patchpanda.Errorf(patchpanda.EINVALID, "queue: decode message: field created_at: want an RFC 3339 time, got %q", truncate(perr.Value, 40))
		}
		return patchpanda.Errorf(patchpanda.EINVALID, "queue: decode message: %s", err.Error())
	}
}

// Validate reports whether m is a complete version 1 message. It returns nil,
// or an EINVALID *patchpanda.Error listing every bad field by its JSON name.
// Required: version 1, id, kind generate_tests, attempt ≥ 1, repository
// owner, name and id, installation_id, pull_request number, head_sha and
// base_sha (hex commit ids), requested_by, a known trigger, config as a JSON
// object, and created_at. billing_project may be empty.
func Validate(m patchpanda.Message) error {
	var bad []string
	add := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }

	if m.Version != patchpanda.MessageVersion {
		add("version is %d, want %d", m.Version, patchpanda.MessageVersion)
	}
	if strings.TrimSpace(m.ID) == "" {
		add("id is empty")
	}
	if m.Kind != patchpanda.JobKindGenerateTests {
		add("kind is %q, want %q", truncate(m.Kind, 40), patchpanda.JobKindGenerateTests)
	}
	if m.Attempt < 1 {
		add("attempt is %d, want 1 or more", m.Attempt)
	}
	if m.Repository.Owner == "" {
		add("repository.owner is empty")
	}
	if m.Repository.Name == "" {
		add("repository.name is empty")
	}
	if m.Repository.ID <= 0 {
		add("repository.id is %d, want a GitHub repository id", m.Repository.ID)
	}
	if m.InstallationID <= 0 {
		add("installation_id is %d, want a GitHub App installation id", m.InstallationID)
	}
	if m.PullRequest.Number <= 0 {
		add("pull_request.number is %d, want a pull request number", m.PullRequest.Number)
	}
	if !isCommitSHA(m.PullRequest.HeadSHA) {
		add("pull_request.head_sha is %q, want a 40 or 64 digit hex commit id", truncate(m.PullRequest.HeadSHA, 70))
	}
	if !isCommitSHA(m.PullRequest.BaseSHA) {
		add("pull_request.base_sha is %q, want a 40 or 64 digit hex commit id", truncate(m.PullRequest.BaseSHA, 70))
	}
	if m.RequestedBy == "" {
		add("requested_by is empty")
	}
	switch m.Trigger {
	case patchpanda.TriggerComment, patchpanda.TriggerPullRequest, patchpanda.TriggerReplay, patchpanda.TriggerCheckRerun:
	default:
		add("trigger is %q, want comment, pull_request, replay or check_rerun", truncate(string(m.Trigger), 40))
	}
	if c := bytes.TrimSpace(m.Config); len(c) == 0 || c[0] != '{' || !json.Valid(c) {
		add("config is not a JSON object")
	}
	if m.CreatedAt.IsZero() {
		add("created_at is missing")
	}
	if len(bad) == 0 {
		return nil
	}
	id := m.ID
	if strings.TrimSpace(id) == "" {
		id = "(no id)"
	}
	return patchpanda.Errorf(patchpanda.EINVALID, "queue: message %s: %s", truncate(id, 80), strings.Join(bad, "; "))
}

func isCommitSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// truncate keeps error messages short when a field holds junk, cutting at a
// rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := 0
	for i := range s {
		if i > n {
			break
		}
		cut = i
	}
	return s[:cut] + "…"
}
