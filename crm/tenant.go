package crm

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Tenant is an ente: a Comune using Dialogo.
type Tenant struct {
	ID         int64     `json:"id"`
	Slug       string    `json:"slug"`
	Name       string    `json:"name"`
	FiscalCode string    `json:"fiscal_code"`
	CreatedAt  time.Time `json:"created_at"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// EnsureTenant creates the tenant with this slug, or updates its name and fiscal code.
func (s *Store) EnsureTenant(ctx context.Context, slug, name, fiscalCode string) (Tenant, error) {
	if !slugRE.MatchString(slug) {
		return Tenant{}, Invalid("slug", "use 2-63 lower-case letters, digits and dashes")
	}
	if strings.TrimSpace(name) == "" {
		return Tenant{}, Invalid("name", "is required")
	}
	if err := ValidateCreditorFiscalCode(fiscalCode); err != nil {
		return Tenant{}, withField(err, "fiscal_code")
	}
	var t Tenant
	err := s.db.QueryRow(ctx, `
		INSERT INTO tenants (slug, name, fiscal_code) VALUES ($1, $2, $3)
		ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, fiscal_code = EXCLUDED.fiscal_code
		RETURNING id, slug, name, fiscal_code, created_at`, slug, name, fiscalCode).
		Scan(&t.ID, &t.Slug, &t.Name, &t.FiscalCode, &t.CreatedAt)
	if err != nil {
		return Tenant{}, fmt.Errorf("ensureTenant(%s): %w", slug, err)
	}
	return t, nil
}

// Tenant returns the tenant with this id.
func (s *Store) Tenant(ctx context.Context, id int64) (Tenant, error) {
	var t Tenant
	err := s.db.QueryRow(ctx, `SELECT id, slug, name, fiscal_code, created_at FROM tenants WHERE id = $1`, id).
		Scan(&t.ID, &t.Slug, &t.Name, &t.FiscalCode, &t.CreatedAt)
	if err != nil {
		return Tenant{}, notFound(err, "tenant", id)
	}
	return t, nil
}

// TenantBySlug returns the tenant with this slug.
func (s *Store) TenantBySlug(ctx context.Context, slug string) (Tenant, error) {
	var t Tenant
	err := s.db.QueryRow(ctx, `SELECT id, slug, name, fiscal_code, created_at FROM tenants WHERE slug = $1`, slug).
		Scan(&t.ID, &t.Slug, &t.Name, &t.FiscalCode, &t.CreatedAt)
	if err != nil {
		return Tenant{}, notFound(err, "tenant", slug)
	}
	return t, nil
}

// Team is a group of staff with one queue of conversations.
type Team struct {
	ID      int64   `json:"id"`
	Slug    string  `json:"slug"`
	Name    string  `json:"name"`
	Members []int64 `json:"member_ids"`
}

// EnsureTeam creates the team with this slug in the tenant, or renames it.
func (s *Store) EnsureTeam(ctx context.Context, tenantID int64, slug, name string) (Team, error) {
	if !slugRE.MatchString(slug) {
		return Team{}, Invalid("slug", "use 2-63 lower-case letters, digits and dashes")
	}
	if strings.TrimSpace(name) == "" {
		return Team{}, Invalid("name", "is required")
	}
	t := Team{Slug: slug, Name: name, Members: []int64{}}
	err := s.db.QueryRow(ctx, `
		INSERT INTO teams (tenant_id, slug, name) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, slug) DO UPDATE SET name = EXCLUDED.name
		RETURNING id`, tenantID, slug, name).Scan(&t.ID)
	if err != nil {
		return Team{}, fmt.Errorf("ensureTeam(%d, %s): %w", tenantID, slug, err)
	}
	return t, nil
}

// Teams lists the tenant's teams with their members.
func (s *Store) Teams(ctx context.Context, tenantID int64) ([]Team, error) {
	rows, err := s.db.Query(ctx, `
		SELECT t.id, t.slug, t.name,
		       coalesce(array_agg(m.staff_id ORDER BY m.staff_id) FILTER (WHERE m.staff_id IS NOT NULL), '{}')
		FROM teams t LEFT JOIN team_members m ON m.tenant_id = t.tenant_id AND m.team_id = t.id
		WHERE t.tenant_id = $1
		GROUP BY t.id, t.slug, t.name ORDER BY t.name`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("teams(%d): %w", tenantID, err)
	}
	defer rows.Close()
	teams := []Team{}
	for rows.Next() {
		var t Team
		if err := rows.Scan(&t.ID, &t.Slug, &t.Name, &t.Members); err != nil {
			return nil, fmt.Errorf("teams(%d): %w", tenantID, err)
		}
		teams = append(teams, t)
	}
	return teams, rows.Err()
}

// Team returns one team of the tenant.
func (s *Store) Team(ctx context.Context, tenantID, id int64) (Team, error) {
	t := Team{ID: id}
	err := s.db.QueryRow(ctx, `
		SELECT t.slug, t.name,
		       coalesce(array_agg(m.staff_id ORDER BY m.staff_id) FILTER (WHERE m.staff_id IS NOT NULL), '{}')
		FROM teams t LEFT JOIN team_members m ON m.tenant_id = t.tenant_id AND m.team_id = t.id
		WHERE t.tenant_id = $1 AND t.id = $2
		GROUP BY t.slug, t.name`, tenantID, id).Scan(&t.Slug, &t.Name, &t.Members)
	if err != nil {
		return Team{}, notFound(err, "team", id)
	}
	return t, nil
}

// AddTeamMember puts a staff member in a team; adding twice is harmless.
func (s *Store) AddTeamMember(ctx context.Context, tenantID, teamID, staffID int64) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO team_members (tenant_id, team_id, staff_id) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, tenantID, teamID, staffID)
	if err != nil {
		return fmt.Errorf("addTeamMember(%d, %d): %w", teamID, staffID, err)
	}
	return nil
}
