package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// DefaultMaxBytes is the body limit Read applies when given none: GitHub caps
// webhook payloads at 25 MB and does not deliver larger ones.
const DefaultMaxBytes int64 = 25 << 20

// The headers GitHub sends with every delivery, besides SignatureHeader.
const (
	EventHeader      = "X-GitHub-Event"
	DeliveryHeader   = "X-GitHub-Delivery"
	HookIDHeader     = "X-GitHub-Hook-ID"
	TargetIDHeader   = "X-GitHub-Hook-Installation-Target-ID"
	TargetTypeHeader = "X-GitHub-Hook-Installation-Target-Type"
)

// maxHeaderLen bounds the event name and delivery id we accept. GitHub's are
// short (an event name, a GUID); the bound keeps a signed but odd request
// from putting kilobytes into a database key.
const maxHeaderLen = 200

// Delivery is one verified webhook request: its headers, the envelope fields
// every event shares, the raw payload, which is what should be stored
// durably and handed to Parse when it is read back, and the payload parsed,
// for whoever handles it before then.
//
// Only the body is signed. The X-GitHub-* headers are not covered by the
// signature, so anyone holding a captured signed body could resend it under
// another delivery id or event name; Parse checking the payload's shape
// against the event name limits what that can achieve.
type Delivery struct {
	ID             string                 // X-GitHub-Delivery: GitHub's GUID for this delivery
	Event          string                 // X-GitHub-Event, e.g. "issue_comment"
	Action         string                 // the payload's "action", "" when it has none
	HookID         int64                  // X-GitHub-Hook-ID, 0 when absent
	TargetType     string                 // X-GitHub-Hook-Installation-Target-Type, e.g. "integration"; "" when absent
	TargetID       int64                  // X-GitHub-Hook-Installation-Target-ID (the App id for App hooks), 0 when absent
	InstallationID int64                  // the payload's installation.id, 0 when absent
	Repository     *patchpanda.Repository // the payload's repository, nil when absent or incomplete
	Sender         string                 // the payload's sender.login, "" when absent
	Payload        []byte                 // the raw body, exactly as signed
	Parsed         Event                  // the payload parsed as Event, read in the same pass as the envelope; nil when it does not parse (Parse says why)
	Verified       bool                   // the signature matched; always true on a Delivery that Read returns
	SecretIndex    int                    // which configured secret matched, counting from 0
}

// Read reads and checks a webhook request and returns the Delivery it
// carries. maxBytes limits the body; zero or less means DefaultMaxBytes. Read
// reads at most maxBytes+1 bytes of the body and does not close it.
//
// The signature is computed while the body is read, so a body is read once
// and nothing else is done with it before it is verified. Checks happen in
// an order that tells a caller without the secret nothing beyond "too large"
// or "unauthorized": a declared length over the limit, the signature
// header's form (before any of the body is read), the size as read, the
// signature, and only then the media type, the headers and the JSON. Errors
// are *patchpanda.Error values, wrapped:
//
//	ETOOLARGE      the body exceeds maxBytes (HTTP 413)
//	EUNAUTHORIZED  X-Hub-Signature-256 missing, malformed or wrong (401)
//	EUNSUPPORTED   Content-Type is not application/json (415)
//	EINVALID       X-GitHub-Event or X-GitHub-Delivery missing, a header
//	               malformed, or the body not a JSON object (400)
//
// Only JSON is accepted. A repository or organization webhook configured with
// the content type application/x-www-form-urlencoded gets 415 and must be
// switched to application/json; GitHub Apps always send JSON. A failure to
// read the body (the client went away, a read deadline passed) is EINVALID,
// wrapping the cause.
func (v *Verifier) Read(r *http.Request, maxBytes int64) (*Delivery, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if r.ContentLength > maxBytes {
		return nil, fmt.Errorf("webhook: read delivery: %w", tooLarge(maxBytes))
	}
	want, err := parseSignature(r.Header.Get(SignatureHeader))
	if err != nil {
		return nil, fmt.Errorf("webhook: read delivery: %w", err)
	}
	macs := v.newMACs()
	body, err := readBody(r, maxBytes, macs)
	if err != nil {
		return nil, fmt.Errorf("webhook: read delivery: %w", err)
	}
	idx, err := v.match(macs, want)
	if err != nil {
		return nil, fmt.Errorf("webhook: read delivery: %w", err)
	}
	d, err := readVerified(r.Header, body)
	if err != nil {
		return nil, fmt.Errorf("webhook: read delivery: %w", err)
	}
	d.Verified = true
	d.SecretIndex = idx
	return d, nil
}

// readBody reads at most maxBytes+1 bytes of r's body, which is enough to
// tell that a body is over the limit without buffering the rest of it, and
// feeds what it reads to macs. With a declared length it allocates the
// buffer once, so a 25 MB body costs 25 MB, not the 50 a growing slice
// passes through.
func readBody(r *http.Request, maxBytes int64, macs []hash.Hash) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	size := int64(32 << 10)
	if r.ContentLength >= 0 {
		size = r.ContentLength + 1 // +1: room to see the EOF without growing
	}
	buf := make([]byte, 0, min(size, maxBytes+1))
	src := io.LimitReader(r.Body, maxBytes+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		for _, m := range macs {
			m.Write(buf[len(buf) : len(buf)+n])
		}
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > maxBytes {
			return nil, tooLarge(maxBytes)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			// The HTTP layer may have wrapped the body in http.MaxBytesReader with
			// a lower limit of its own; that is still "too large", not a failure.
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, tooLarge(maxBytes)
			}
			return nil, fmt.Errorf("%w: %w", patchpanda.Errorf(patchpanda.EINVALID, "the request body could not be read"), err)
		}
	}
}

func tooLarge(maxBytes int64) error {
	return patchpanda.Errorf(patchpanda.ETOOLARGE, "the request body exceeds the limit of %d bytes", maxBytes)
}

// readVerified runs the checks that come after the signature.
func readVerified(h http.Header, body []byte) (*Delivery, error) {
	ct := h.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		if ct == "" {
			ct = "none"
		}
		return nil, patchpanda.Errorf(patchpanda.EUNSUPPORTED, "Content-Type %q is not supported; configure the webhook to send application/json", truncate(ct, 100))
	}

	d := &Delivery{Payload: body}
	if d.Event, err = requiredHeader(h, EventHeader); err != nil {
		return nil, err
	}
	if d.ID, err = requiredHeader(h, DeliveryHeader); err != nil {
		return nil, err
	}
	if d.HookID, err = optionalIntHeader(h, HookIDHeader); err != nil {
		return nil, err
	}
	if d.TargetID, err = optionalIntHeader(h, TargetIDHeader); err != nil {
		return nil, err
	}
	d.TargetType = truncate(h.Get(TargetTypeHeader), maxHeaderLen)

	// One pass reads the event and the envelope every event shares. A
	// payload that is not the event its name says is still accepted when
	// its envelope reads: Parse says later what is wrong with it, where the
	// delivery's failure can be seen.
	ev, env, err := parseEnvelope(d.Event, body)
	if err != nil {
		env = new(wireCommon)
		if err := decodeObject(body, env); err != nil {
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "%s payload: %s", d.Event, err)
		}
	}
	d.Parsed = ev
	d.Action = env.Action
	d.InstallationID = env.installationID()
	d.Sender = env.Sender.user().Login
	d.Repository = env.Repository.complete()
	return d, nil
}

func requiredHeader(h http.Header, name string) (string, error) {
	v := h.Get(name)
	if v == "" {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "missing %s header", name)
	}
	if len(v) > maxHeaderLen || !printableASCII(v) {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "%s header is not a short printable ASCII value", name)
	}
	return v, nil
}

func optionalIntHeader(h http.Header, name string) (int64, error) {
	v := h.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, patchpanda.Errorf(patchpanda.EINVALID, "%s header %q is not a non-negative integer", name, truncate(v, 40))
	}
	return n, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// truncate shortens s to at most n bytes so that attacker-controlled text
// stays small in error messages. It may cut a multi-byte rune; %q renders the
// remains safely.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// validOptions make the decoder take the JSON encoding/json takes: a name
// given twice (the last wins) and invalid UTF-8 (replaced); decodeOptions
// also match names in any case, as encoding/json does.
var (
	validOptions  = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	decodeOptions = json.JoinOptions(validOptions, json.MatchCaseInsensitiveNames(true))
)

// decodeObject unmarshals a JSON object into v. Its error names what is wrong
// in words meant for a user: not JSON, not an object, or which field has the
// wrong type.
//
// It decodes with the JSON v2 decoder (github.com/go-json-experiment/json),
// which validates as it decodes, in one pass, where encoding/json checks
// the whole body before it decodes: a payload costs about half as much to
// read. A syntax error anywhere still wins over a type error before it.
func decodeObject(data []byte, v any) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return errors.New("body is empty")
	}
	if trimmed[0] != '{' {
		if !jsontext.Value(data).IsValid(validOptions) {
			return errors.New("body is not valid JSON")
		}
		return errors.New("body is not a JSON object")
	}
	err := json.Unmarshal(data, v, decodeOptions)
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
		return errors.New("body is not valid JSON")
	}
	if !jsontext.Value(data).IsValid(validOptions) {
		return errors.New("body is not valid JSON") // after the field the decoder stopped at
	}
	if se, ok := errors.AsType[*json.SemanticError](err); ok && se.GoType != nil {
		got := kindName(se.JSONKind)
		if se.JSONKind == '0' && len(se.JSONValue) > 0 {
			got += " " + truncate(string(se.JSONValue), 40)
		}
		return fmt.Errorf("%s: want %s, got JSON %s", fieldPath(se.JSONPointer), jsonKind(se.GoType), got)
	}
	return fmt.Errorf("body could not be decoded: %s", truncate(err.Error(), 200))
}

// kindName names a JSON kind as encoding/json's errors did.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "value"
}

// jsonKind names, in JSON's terms, what a Go type accepts.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a different type"
}

// fieldPath writes a JSON pointer as the path to a field a user reads:
// /pull_request/head/sha is pull_request.head.sha, /repositories_added/0/id
// is repositories_added[0].id.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.ParseUint(tok, 10, 32); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(truncate(tok, 100))
	}
	if b.Len() == 0 {
		return "(top level)"
	}
	return truncate(b.String(), 300)
}
