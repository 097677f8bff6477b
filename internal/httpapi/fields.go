package httpapi

import (
	"net/http"
	"strconv"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// checker is a request body that validates its own fields; decodeJSON
// calls Check on every body that has one, so no handler can forget to.
type checker interface {
	// Check returns an EINVALID error naming the first bad field.
	Check() error
}

// pathID parses a numeric path value with strconv.ParseInt, so "7abc",
// "+7", " 7" and "0x7" are refused rather than read as 7. It returns an
// EINVALID error naming the parameter.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 || v[0] == '+' {
		return 0, patchpanda.Errorf(patchpanda.EINVALID, "%s %.40q is not a positive whole number", name, v)
	}
	return id, nil
}

// maxJobID caps the job ids a path may carry: patchpanda.NewJobID makes
// 28-byte ids ("job_" and 24 hex digits).
const maxJobID = 64

// pathJobID returns the {id} path value of /api/jobs/{id} routes after
// checking it could be a job id: 1 to maxJobID bytes of ASCII letters,
// digits, '_' and '-'. It returns an EINVALID error naming the field and
// its limit otherwise (quoting at most 40 bytes of the value), so a 10 KB
// id or one with a NUL or newline never reaches a service, store or log.
func pathJobID(r *http.Request) (string, error) {
	v := r.PathValue("id")
	if v == "" || len(v) > maxJobID {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "job id is %d bytes long; the limit is %d", len(v), maxJobID)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "", patchpanda.Errorf(patchpanda.EINVALID, "job id %.40q has a character other than letters, digits, '_' and '-'", v)
		}
	}
	return v, nil
}

// pathRepository returns the repository named by the {owner} and {name}
// path values, checked by GitHub's rules.
func pathRepository(r *http.Request) (string, error) {
	full := r.PathValue("owner") + "/" + r.PathValue("name")
	if _, _, err := patchpanda.ParseFullName(full); err != nil {
		return "", err
	}
	return full, nil
}

// queryRepository returns query parameter name, which is empty or a
// repository checked by GitHub's rules.
func queryRepository(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", nil
	}
	if _, _, err := patchpanda.ParseFullName(v); err != nil {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "%s: %s", name, patchpanda.ErrorMessage(err))
	}
	return v, nil
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Check caps the key's name and lifetime (see checker).
func (r CreateKeyRequest) Check() error {
	return firstError(
		patchpanda.CheckName("name", r.Name, patchpanda.MaxNameLen),
		patchpanda.CheckName("expires_in", r.ExpiresIn, 32),
	)
}

// Check caps the project's name (see checker).
func (r CreateBillingProjectRequest) Check() error {
	return patchpanda.CheckName("name", r.Name, patchpanda.MaxNameLen)
}

// Check caps the project's new name (see checker).
func (r UpdateBillingProjectRequest) Check() error {
	if r.Name == nil {
		return nil
	}
	return patchpanda.CheckName("name", *r.Name, patchpanda.MaxNameLen)
}

// Check validates the repository by GitHub's rules (see checker).
func (r BindRepositoryRequest) Check() error {
	if _, _, err := patchpanda.ParseFullName(r.Repository); err != nil {
		return patchpanda.Errorf(patchpanda.EINVALID, "repository: %s", patchpanda.ErrorMessage(err))
	}
	return nil
}

// Check caps the provider, the key's name and the key itself, whose text
// no error quotes (see checker).
func (r AddProviderKeyRequest) Check() error {
	return firstError(
		patchpanda.CheckName("provider", r.Provider, patchpanda.MaxNameLen),
		patchpanda.CheckName("name", r.Name, patchpanda.MaxNameLen),
		patchpanda.CheckName("key", r.Key, patchpanda.MaxSecretLen),
	)
}
