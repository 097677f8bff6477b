package githubtest

import (
	"net/http"
	"time"
)

// RateLimitUntil spends the primary rate limit of every request matching
// route ("" for all) until reset: each gets 403 with
// X-RateLimit-Remaining: 0 and X-RateLimit-Reset: reset, as GitHub answers
// an installation or App whose hourly budget is used up. From reset on,
// requests are answered normally again.
func (s *Server) RateLimitUntil(route string, reset time.Time) {
	s.Fail(Failure{Route: route, Status: http.StatusForbidden, Until: reset,
		Message:            "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.",
		DocumentationURL:   "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-rate-limit",
		RateLimitExhausted: true, RateLimitReset: reset})
}
