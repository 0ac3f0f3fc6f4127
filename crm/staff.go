package crm

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Staff is a staff account of an ente. The password hash never leaves the package.
type Staff struct {
	ID            int64     `json:"id"`
	TenantID      int64     `json:"tenant_id"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	Roles         []Role    `json:"roles"`
	Active        bool      `json:"active"`
	MaxConcurrent int       `json:"max_concurrent"`
	CreatedAt     time.Time `json:"created_at"`
}

// Actor returns the staff member as the actor of an operation.
func (st Staff) Actor() Actor {
	return Actor{TenantID: st.TenantID, Kind: ActorStaff, ID: st.ID, Name: st.Name, Roles: st.Roles}
}

// StaffInput creates or updates a staff account.
type StaffInput struct {
	Email    string
	Name     string
	Roles    []Role
	Password string
}

func normalizeEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 320 {
		return "", Invalid(field, "is not an e-mail address")
	}
	return strings.ToLower(s), nil
}

// EnsureStaff creates the staff account with this e-mail in the tenant, or updates
// its name, roles and password. An e-mail used by another tenant is a conflict.
func (s *Store) EnsureStaff(ctx context.Context, tenantID int64, in StaffInput) (Staff, error) {
	email, err := normalizeEmail("email", in.Email)
	if err != nil {
		return Staff{}, err
	}
	if strings.TrimSpace(in.Name) == "" {
		return Staff{}, Invalid("name", "is required")
	}
	if len(in.Roles) == 0 {
		return Staff{}, Invalid("roles", "at least one role is required")
	}
	for _, r := range in.Roles {
		if !ValidRole(r) {
			return Staff{}, Invalid("roles", fmt.Sprintf("unknown role %q", r))
		}
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return Staff{}, err
	}
	var st Staff
	err = s.db.QueryRow(ctx, `
		INSERT INTO staff (tenant_id, email, name, roles, password_hash) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name, roles = EXCLUDED.roles,
		    password_hash = EXCLUDED.password_hash
		    WHERE staff.tenant_id = EXCLUDED.tenant_id
		RETURNING id, tenant_id, email, name, roles, active, max_concurrent, created_at`,
		tenantID, email, in.Name, in.Roles, hash).
		Scan(&st.ID, &st.TenantID, &st.Email, &st.Name, &st.Roles, &st.Active, &st.MaxConcurrent, &st.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Staff{}, fmt.Errorf("%w: e-mail %s belongs to another ente", ErrConflict, email)
	}
	if err != nil {
		return Staff{}, fmt.Errorf("ensureStaff(%s): %w", email, err)
	}
	return st, nil
}

const staffColumns = `id, tenant_id, email, name, roles, active, max_concurrent, created_at`

func scanStaff(row pgx.Row) (Staff, error) {
	var st Staff
	err := row.Scan(&st.ID, &st.TenantID, &st.Email, &st.Name, &st.Roles, &st.Active, &st.MaxConcurrent, &st.CreatedAt)
	return st, err
}

// StaffMember returns one staff account of the tenant.
func (s *Store) StaffMember(ctx context.Context, tenantID, id int64) (Staff, error) {
	st, err := scanStaff(s.db.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return Staff{}, notFound(err, "staff", id)
	}
	return st, nil
}

// StaffList lists the tenant's staff by name.
func (s *Store) StaffList(ctx context.Context, tenantID int64) ([]Staff, error) {
	rows, err := s.db.Query(ctx, `SELECT `+staffColumns+` FROM staff WHERE tenant_id = $1 ORDER BY name, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("staffList(%d): %w", tenantID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Staff, error) { return scanStaff(r) })
}

// ErrBadCredentials is returned for a wrong e-mail or password, without saying which.
var ErrBadCredentials = errors.New("wrong e-mail or password")

// Authenticate checks a staff member's e-mail and password.
func (s *Store) Authenticate(ctx context.Context, email, password string) (Staff, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var hash string
	var st Staff
	err := s.db.QueryRow(ctx, `SELECT `+staffColumns+`, password_hash FROM staff WHERE email = $1`, email).
		Scan(&st.ID, &st.TenantID, &st.Email, &st.Name, &st.Roles, &st.Active, &st.MaxConcurrent, &st.CreatedAt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// Spend the same time as a real check so that timing does not reveal accounts.
		_, _ = VerifyPassword(dummyHash(), password)
		return Staff{}, ErrBadCredentials
	}
	if err != nil {
		return Staff{}, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := VerifyPassword(hash, password)
	if err != nil || !ok || !st.Active {
		return Staff{}, ErrBadCredentials
	}
	return st, nil
}

// dummyHash is hashed once, when first needed, not at start-up.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("not-a-real-password")
	if err != nil {
		panic(err)
	}
	return h
})

// SessionTTL is how long a console session lasts.
const SessionTTL = 12 * time.Hour

// Session is a logged-in staff session. Token is the cookie value, known only at
// creation; the database keeps its hash.
type Session struct {
	Token     string
	CSRFToken string
	ExpiresAt time.Time
}

// CreateSession opens a session for the staff member.
func (s *Store) CreateSession(ctx context.Context, st Staff) (Session, error) {
	token, hash := NewSecretToken("dls_")
	csrf := randomString(32)
	exp := now().Add(SessionTTL)
	_, err := s.db.Exec(ctx, `
		INSERT INTO staff_sessions (token_hash, tenant_id, staff_id, csrf_token, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, hash, st.TenantID, st.ID, csrf, exp)
	if err != nil {
		return Session{}, fmt.Errorf("createSession(%d): %w", st.ID, err)
	}
	// Expired sessions are swept as new ones are made.
	_, _ = s.db.Exec(ctx, `DELETE FROM staff_sessions WHERE expires_at < now()`)
	return Session{Token: token, CSRFToken: csrf, ExpiresAt: exp}, nil
}

// SessionStaff returns the active staff member and CSRF token of a session cookie.
func (s *Store) SessionStaff(ctx context.Context, token string) (Staff, string, error) {
	var csrf string
	var st Staff
	err := s.db.QueryRow(ctx, `
		SELECT s.id, s.tenant_id, s.email, s.name, s.roles, s.active, s.max_concurrent, s.created_at, ss.csrf_token
		FROM staff_sessions ss JOIN staff s ON s.tenant_id = ss.tenant_id AND s.id = ss.staff_id
		WHERE ss.token_hash = $1 AND ss.expires_at > now() AND s.active`, HashToken(token)).
		Scan(&st.ID, &st.TenantID, &st.Email, &st.Name, &st.Roles, &st.Active, &st.MaxConcurrent, &st.CreatedAt, &csrf)
	if err != nil {
		return Staff{}, "", notFound(err, "session", "")
	}
	return st, csrf, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM staff_sessions WHERE token_hash = $1`, HashToken(token)); err != nil {
		return fmt.Errorf("deleteSession: %w", err)
	}
	return nil
}

// APIToken describes an integration token; the secret itself is shown only once.
type APIToken struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Roles      []Role     `json:"roles"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// CreateAPIToken makes a token with the given roles and returns its secret, which
// is not stored and cannot be shown again. Only admins make tokens.
func (s *Store) CreateAPIToken(ctx context.Context, a Actor, name string, roles []Role) (APIToken, string, error) {
	if err := a.Require(RoleAdmin); err != nil {
		return APIToken{}, "", err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return APIToken{}, "", Invalid("name", "is required, up to 200 characters")
	}
	if len(roles) == 0 {
		return APIToken{}, "", Invalid("roles", "at least one role is required")
	}
	for _, r := range roles {
		if !ValidRole(r) {
			return APIToken{}, "", Invalid("roles", fmt.Sprintf("unknown role %q", r))
		}
	}
	secret, hash := NewSecretToken("dlg_")
	t := APIToken{Name: name, Roles: roles}
	err := s.db.QueryRow(ctx, `
		INSERT INTO api_tokens (tenant_id, name, token_hash, roles, created_by) VALUES ($1, $2, $3, $4, $5)
		RETURNING id, created_at`, a.TenantID, name, hash, roles, a.StaffID()).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return APIToken{}, "", fmt.Errorf("createAPIToken: %w", err)
	}
	return t, secret, nil
}

// TokenActor returns the actor of a valid, unrevoked API token.
func (s *Store) TokenActor(ctx context.Context, secret string) (Actor, error) {
	a := Actor{Kind: ActorToken}
	err := s.db.QueryRow(ctx, `
		UPDATE api_tokens SET last_used_at = now()
		WHERE token_hash = $1 AND revoked_at IS NULL
		RETURNING tenant_id, id, name, roles`, HashToken(secret)).Scan(&a.TenantID, &a.ID, &a.Name, &a.Roles)
	if err != nil {
		return Actor{}, notFound(err, "api token", "")
	}
	return a, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
