package webchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The frames of docs/chat-protocol.md.

// Limits of the protocol.
const (
	maxFrameBytes         = 16 << 10 // a frame, in bytes
	maxTextRunes          = 4000     // a message's text, in characters
	maxMessageAttachments = 10
)

// Error codes of error frames.
const (
	codeBadFrame       = "bad_frame"
	codeNotReady       = "not_ready"
	codeTooLarge       = "too_large"
	codeRateLimited    = "rate_limited"
	codeInvalidMessage = "invalid_message"
	codeBadIdentity    = "bad_identity"
	codeUnavailable    = "unavailable"
)

// Frames from the citizen. Pointers tell a missing field from a zero one.

type helloFrame struct {
	Type           string          `json:"type"`
	Visitor        string          `json:"visitor"` // empty (or missing) on the first visit
	ConversationID *int64          `json:"conversation_id"`
	LastSeq        int64           `json:"last_seq"`
	Lang           string          `json:"lang"`
	Identity       *signedIdentity `json:"identity"`
}

type signedIdentity struct {
	UserID string `json:"user_id"`
	Hash   string `json:"hash"`
	Name   string `json:"name"`
	Email  string `json:"email"`
}

type messageFrame struct {
	Type        string   `json:"type"`
	ClientID    *string  `json:"client_id"`
	Text        string   `json:"text"`
	Attachments []string `json:"attachments"`
}

type typingFrame struct {
	Type string `json:"type"`
	On   *bool  `json:"on"`
}

// receiptFrame is ack or read. ConversationID is optional: without it, the
// receipt is about the conversation the server shows.
type receiptFrame struct {
	Type           string `json:"type"`
	Seq            *int64 `json:"seq"`
	ConversationID int64  `json:"conversation_id"`
}

// feedbackFrame is the citizen's thumbs up (useful) or down on an answer of
// the virtual assistant. ConversationID is optional, as for receipts.
type feedbackFrame struct {
	Type           string `json:"type"`
	Seq            *int64 `json:"seq"`
	Useful         *bool  `json:"useful"`
	ConversationID int64  `json:"conversation_id"`
}

type pingFrame struct {
	Type string `json:"type"`
}

// frameError is why a frame was refused as bad_frame; detail is for the
// widget's developer, in English.
type frameError struct {
	detail string
}

// decodeFrame reads a frame strictly: a JSON object with a known type, no
// unknown fields, the type's required fields present.
func decodeFrame(data []byte) (any, *frameError) {
	var env struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "" {
			return nil, &frameError{"a frame is a JSON object"}
		}
		if errors.As(err, &typeErr) {
			return nil, &frameError{fmt.Sprintf("field %q must be a %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))}
		}
		return nil, &frameError{"not JSON: " + err.Error()}
	}
	if env.Type == nil || *env.Type == "" {
		return nil, &frameError{`missing field "type"`}
	}
	var v any
	switch *env.Type {
	case "hello":
		v = &helloFrame{}
	case "message":
		v = &messageFrame{}
	case "typing":
		v = &typingFrame{}
	case "ack", "read":
		v = &receiptFrame{}
	case "feedback":
		v = &feedbackFrame{}
	case "ping":
		v = &pingFrame{}
	default:
		return nil, &frameError{fmt.Sprintf("unknown frame type %q", *env.Type)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, &frameError{fmt.Sprintf("field %q must be a %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))}
		}
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, &frameError{fmt.Sprintf("unknown field %s in a %s frame", field, *env.Type)}
		}
		return nil, &frameError{err.Error()}
	}
	switch f := v.(type) {
	case *helloFrame:
		if f.LastSeq < 0 {
			return nil, &frameError{`"last_seq" cannot be negative`}
		}
	case *messageFrame:
		if f.ClientID == nil {
			return nil, &frameError{`missing field "client_id"`}
		}
	case *typingFrame:
		if f.On == nil {
			return nil, &frameError{`missing field "on"`}
		}
	case *receiptFrame:
		if f.Seq == nil {
			return nil, &frameError{`missing field "seq"`}
		}
		if *f.Seq < 1 {
			return nil, &frameError{`"seq" is a sequence number, from 1`}
		}
	case *feedbackFrame:
		if f.Seq == nil {
			return nil, &frameError{`missing field "seq"`}
		}
		if *f.Seq < 1 {
			return nil, &frameError{`"seq" is a sequence number, from 1`}
		}
		if f.Useful == nil {
			return nil, &frameError{`missing field "useful"`}
		}
		if f.ConversationID < 0 {
			return nil, &frameError{`"conversation_id" cannot be negative`}
		}
	}
	return v, nil
}

// jsonKind names a Go kind as JSON does.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "bool":
		return "boolean"
	case kind == "slice":
		return "list"
	case kind == "struct", kind == "map":
		return "object"
	default:
		return kind
	}
}

// Frames to the citizen.

type welcomeOut struct {
	Type           string     `json:"type"`
	Visitor        string     `json:"visitor"`
	ConversationID *int64     `json:"conversation_id"`
	Status         string     `json:"status"`
	Position       int        `json:"position,omitempty"`
	Contact        contactOut `json:"contact"`
	Limits         limitsOut  `json:"limits"`
}

type contactOut struct {
	Name     string `json:"name"`
	Verified bool   `json:"verified"`
}

type limitsOut struct {
	MaxText            int   `json:"max_text"`
	MaxAttachmentBytes int64 `json:"max_attachment_bytes"`
	MessagesPerMinute  int   `json:"messages_per_minute"`
}

type ackOut struct {
	Type           string `json:"type"`
	ClientID       string `json:"client_id"`
	Seq            int64  `json:"seq"`
	ConversationID int64  `json:"conversation_id"`
}

type messageOut struct {
	Type           string          `json:"type"`
	ConversationID int64           `json:"conversation_id"`
	Seq            int64           `json:"seq"`
	ClientID       string          `json:"client_id,omitempty"`
	Author         string          `json:"author"`
	AuthorName     string          `json:"author_name,omitempty"`
	Text           string          `json:"text"`
	Attachments    []attachmentOut `json:"attachments"`
	At             time.Time       `json:"at"`
}

type attachmentOut struct {
	Token       string `json:"token,omitempty"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url,omitempty"`
}

type typingOut struct {
	Type       string `json:"type"`
	Author     string `json:"author"`
	AuthorName string `json:"author_name,omitempty"`
	On         bool   `json:"on"`
}

type statusOut struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	Status         string `json:"status"`
	Position       int    `json:"position,omitempty"`
}

type errorOut struct {
	Type         string `json:"type"`
	Code         string `json:"code"`
	Message      string `json:"message"`
	Detail       string `json:"detail,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
	// Seq and ConversationID name the answer whose feedback was refused.
	Seq            int64 `json:"seq,omitempty"`
	ConversationID int64 `json:"conversation_id,omitempty"`
}

// feedbackOKOut acknowledges the citizen's feedback on an answer: it is stored.
type feedbackOKOut struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	Useful         bool   `json:"useful"`
}

type pongOut struct {
	Type string `json:"type"`
}
