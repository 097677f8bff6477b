package queue

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// secretValuePrefixes start credentials we know: GitHub installation, user,
// OAuth and refresh tokens and fine-grained PATs, PatchPanda API keys, and
// PEM blocks (private keys).
var secretValuePrefixes = []string{"ghs_", "ghp_", "gho_", "ghu_", "ghr_", "github_pat_", "ppk_", "-----BEGIN"}

// secretKeyNames are config keys (normalised to snake_case) whose string
// value is taken for a secret, whole or as the last words of the key.
var secretKeyNames = []string{"token", "secret", "password", "passwd", "private_key", "api_key", "apikey", "access_key", "secret_key"}

// findSecret walks a JSON config and returns the path of the first string
// that looks like a credential: a value with a known credential prefix, or a
// non-empty string under a key named like one. It never returns the value
// itself. Keys are visited in sorted order so the answer is stable. A
// config that is not valid JSON holds no secret as far as findSecret can
// tell; Validate rejects it anyway.
func findSecret(config []byte) (path string, found bool) {
	dec := json.NewDecoder(bytes.NewReader(config))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	return walkSecret("config", "", v)
}

func walkSecret(path, key string, v any) (string, bool) {
	switch v := v.(type) {
	case string:
		s := strings.TrimLeftFunc(v, unicode.IsSpace)
		for _, p := range secretValuePrefixes {
			if strings.HasPrefix(s, p) {
				return path, true
			}
		}
		if s != "" && key != "" && secretKey(key) {
			return path, true
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p, ok := walkSecret(path+"."+k, k, v[k]); ok {
				return p, true
			}
		}
	case []any:
		for i, e := range v {
			// Elements of a list inherit its key: tokens: [ghx…] is as
			// suspicious as token: ghx….
			if p, ok := walkSecret(path+"["+strconv.Itoa(i)+"]", key, e); ok {
				return p, true
			}
		}
	}
	return "", false
}

// secretKey reports whether a config key is named like a credential:
// "token", "GITHUB_TOKEN", "clientSecret", "db-password", "private_key".
// Keys that merely mention one ("token_limit", "max_tokens") are not.
func secretKey(key string) bool {
	k := snake(key)
	for _, name := range secretKeyNames {
		if k == name || strings.HasSuffix(k, "_"+name) {
			return true
		}
	}
	return false
}

// snake lower-cases key and turns camelCase humps, dashes, dots and spaces
// into underscores.
func snake(key string) string {
	var b strings.Builder
	var prev rune
	for i, r := range key {
		switch {
		case r == '-' || r == '.' || r == ' ':
			b.WriteByte('_')
		case unicode.IsUpper(r):
			if i > 0 && (unicode.IsLower(prev) || unicode.IsDigit(prev)) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}
