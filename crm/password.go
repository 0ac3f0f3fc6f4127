package crm

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

const (
	fieldPassword = "password"

	// Password length limits. The maximum stops a caller from making the
	// server hash megabytes of input.
	minPasswordChars = 8
	maxPasswordBytes = 1024
)

// argon2idParams are the cost parameters of an argon2id hash.
type argon2idParams struct {
	memoryKiB uint32
	time      uint32
	threads   uint8
}

// newPasswordParams are the parameters for new hashes: the OWASP Password
// Storage Cheat Sheet's first argon2id configuration (19 MiB, 2 passes, 1
// lane). Existing hashes carry their own parameters, so raising these later
// does not break old passwords.
var newPasswordParams = argon2idParams{memoryKiB: 19456, time: 2, threads: 1}

const (
	passwordSaltLen = 16
	passwordKeyLen  = 32
)

// HashPassword validates pw and returns its argon2id hash in PHC string format,
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" with unpadded standard base64.
//
// A password shorter than 8 characters or longer than 1024 bytes is rejected
// with a *FieldError on field "password", which matches ErrInvalid.
func HashPassword(pw string) (string, error) {
	if utf8.RuneCountInString(pw) < minPasswordChars {
		return "", Invalid(fieldPassword, fmt.Sprintf("must be at least %d characters long", minPasswordChars))
	}
	if len(pw) > maxPasswordBytes {
		return "", Invalid(fieldPassword, fmt.Sprintf("must be at most %d bytes long", maxPasswordBytes))
	}
	salt := make([]byte, passwordSaltLen)
	rand.Read(salt) // never fails: crypto/rand crashes the program instead
	p := newPasswordParams
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memoryKiB, p.threads, passwordKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memoryKiB, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches encoded, a hash made by
// HashPassword, comparing in constant time. It uses the parameters recorded in
// encoded. A wrong password gives (false, nil); an error means encoded itself
// is malformed or uses parameters outside sane bounds.
func VerifyPassword(encoded, pw string) (bool, error) {
	p, salt, key, err := parseArgon2id(encoded)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	if len(pw) > maxPasswordBytes {
		// HashPassword never accepted it, so it cannot match; skip the work.
		return false, nil
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memoryKiB, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// parseArgon2id splits a PHC argon2id string into its parts. Bounds on the
// parameters keep a tampered or corrupt row from making one login allocate
// gigabytes or spin for minutes.
func parseArgon2id(encoded string) (p argon2idParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id PHC string")
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, fmt.Errorf("unsupported argon2 version %q", parts[2])
	}
	var threads uint32
	_, err = fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memoryKiB, &p.time, &threads)
	if err != nil || parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.memoryKiB, p.time, threads) {
		return p, nil, nil, fmt.Errorf("malformed argon2id parameters %q", parts[3])
	}
	if p.memoryKiB < 8*threads || p.memoryKiB > 1<<20 || p.time < 1 || p.time > 16 || threads < 1 || threads > 16 {
		return p, nil, nil, fmt.Errorf("argon2id parameters out of bounds %q", parts[3])
	}
	p.threads = uint8(threads)
	b64 := base64.RawStdEncoding
	salt, err = b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("malformed argon2id salt")
	}
	key, err = b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errors.New("malformed argon2id hash")
	}
	return p, salt, key, nil
}

// NewSecretToken returns a new random token for API keys, invitation links and
// the like, and the SHA-256 hash to store in its place. The token is prefix
// followed by 32 random bytes in unpadded URL-safe base64; a fixed prefix such
// as "dlg_" lets secret scanners and people recognise a leaked token.
//
// The token is shown once and never stored: lookups hash the presented token
// with HashToken and compare hashes. Plain SHA-256 is enough here, unlike for
// passwords, because 256 random bits cannot be guessed.
func NewSecretToken(prefix string) (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the SHA-256 hash of token, prefix included, as stored for
// tokens made by NewSecretToken.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
