package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/patchpanda/patchpanda/internal/limits"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// statusOf is the one table from error codes to HTTP status codes.
var statusOf = map[string]int{
	patchpanda.EINVALID:      http.StatusBadRequest,
	patchpanda.EUNAUTHORIZED: http.StatusUnauthorized,
	patchpanda.EFORBIDDEN:    http.StatusForbidden,
	patchpanda.ENOTFOUND:     http.StatusNotFound,
	patchpanda.ECONFLICT:     http.StatusConflict,
	patchpanda.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	patchpanda.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	patchpanda.ERATELIMITED:  http.StatusTooManyRequests,
	patchpanda.EUNAVAILABLE:  http.StatusServiceUnavailable,
	patchpanda.EINTERNAL:     http.StatusInternalServerError,
}

// codeOf inverts statusOf for the client.
func codeOf(status int) string {
	for code, s := range statusOf {
		if s == status {
			return code
		}
	}
	if status >= 500 {
		return patchpanda.EINTERNAL
	}
	return patchpanda.EINVALID
}

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the code and user-safe message of an error answer.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError answers with err's status and user-safe message. Internal
// errors are logged with their full text, which never reaches the caller.
//
// A dependency being down (EUNAVAILABLE) is logged once a minute per
// message through once, not for every request it fails.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, once *limits.Throttle, err error) {
	code := patchpanda.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	setRetryAfter(w, err)
	var limited *limitedError
	// A limit hit is logged by limits.Reporter, once a minute.
	if status >= 500 && !errors.As(err, &limited) && (code != patchpanda.EUNAVAILABLE || once.Allow(patchpanda.ErrorMessage(err))) {
		logger.ErrorContext(r.Context(), "request failed", "error", err, "request_id", RequestID(r.Context()))
	}
	writeJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: patchpanda.ErrorMessage(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// maxJSONBody bounds JSON request bodies of the API (not coverage uploads).
const maxJSONBody = 1 << 20

// decodeJSON reads a JSON request body into v, rejecting unknown fields,
// trailing data and bodies over maxJSONBody with errors that say which.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return patchpanda.Errorf(patchpanda.EUNSUPPORTED, "request body must be application/json, got %q", ct)
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return patchpanda.Errorf(patchpanda.ETOOLARGE, "request body is over %d bytes", maxJSONBody)
		case errors.Is(err, io.EOF):
			return patchpanda.Errorf(patchpanda.EINVALID, "request body is empty; a JSON object is required")
		case errors.As(err, &syntax):
			return patchpanda.Errorf(patchpanda.EINVALID, "request body is not valid JSON at byte %d", syntax.Offset)
		case errors.As(err, &typ):
			return patchpanda.Errorf(patchpanda.EINVALID, "field %q: want %s, got %s", typ.Field, typ.Type, typ.Value)
		default:
			return patchpanda.Errorf(patchpanda.EINVALID, "request body: %v", err)
		}
	}
	if dec.More() {
		return patchpanda.Errorf(patchpanda.EINVALID, "request body has data after the JSON object")
	}
	if c, ok := v.(checker); ok {
		return c.Check()
	}
	return nil
}
