// Package githubapp is PatchPanda's GitHub App client and the only package
// that imports go-github. Callers see small types of its own.
//
// # Authentication
//
// App-level calls carry a JWT (RS256; iat 60 s in the past for clock drift;
// exp 9 minutes ahead, under GitHub's 10; iss the App id), reused until a
// minute before it expires. Installation-level calls carry an installation
// token minted on demand with POST /app/installations/{id}/access_tokens,
// cached per installation, repositories and permissions until a minute
// before it expires; concurrent callers of one key share one mint. A token
// GitHub refuses (401) is dropped and minted again once. Calls made for a
// person carry that person's own token.
//
// # Calls
//
// As the App (JWT):
//
//	Token                  POST  /app/installations/{installation_id}/access_tokens
//	Installation           GET   /app/installations/{installation_id}
//	HookDeliveries         GET   /app/hook/deliveries?per_page=&cursor=
//	Redeliver              POST  /app/hook/deliveries/{delivery_id}/attempts
//
// As an installation (token):
//
//	Contents               GET   /repos/{owner}/{repo}/contents/{path}?ref=
//	CollaboratorPermission GET   /repos/{owner}/{repo}/collaborators/{username}/permission
//	TeamMembership         GET   /orgs/{org}/teams/{team_slug}/memberships/{username}
//	PullRequest            GET   /repos/{owner}/{repo}/pulls/{pull_number}
//	PullRequestFiles       GET   /repos/{owner}/{repo}/pulls/{pull_number}/files (all pages)
//	ReactToComment         POST  /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions
//	CreateComment          POST  /repos/{owner}/{repo}/issues/{issue_number}/comments
//	UpdateComment          PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}
//	Comments               GET   /repos/{owner}/{repo}/issues/{issue_number}/comments (all pages)
//	CreateCheckRun         POST  /repos/{owner}/{repo}/check-runs
//	UpdateCheckRun         PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}
//
// As a person (their token):
//
//	AuthenticatedUser      GET   /user
//	UserTeamMembership     GET   /orgs/{org}/teams/{team_slug}/memberships/{username}
//
// # Failures
//
// Each request is retried (Config.MaxRetries, default 4) on 5xx and
// transport errors, with exponential backoff, and on rate limits, waiting
// as GitHub asks: Retry-After; else X-RateLimit-Reset when
// X-RateLimit-Remaining is 0; else, for a secondary limit, a minute
// doubling per retry. A wait longer than Config.MaxWait (default 2 min) or
// past the context's deadline is not slept: the call fails at once with an
// error wrapping ErrRateLimited whose *APIError carries RetryAt. Waiting
// and the clock are injectable (Config.Sleep, Config.Now).
//
// Errors wrap *APIError for GitHub's answers, which unwraps to ErrNotFound,
// ErrUnauthorized, ErrForbidden, ErrInvalid, ErrRateLimited or
// ErrUnavailable: *patchpanda.Error values, so patchpanda.ErrorCode
// classifies them. No error or log line holds the private key, a JWT or a
// token.
//
// # Without an App
//
// A Client built without App id and key (the embedded default) makes no
// calls: each is logged at Info and returns a harmless zero result (no
// deliveries, no files, permission "none", not a member, objects with ID
// 0). Contents returns ErrNotFound, and calls with a person's token return
// ErrNotConfigured, since nothing can be verified.
package githubapp
