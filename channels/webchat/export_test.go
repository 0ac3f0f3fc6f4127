package webchat

// VisitorIdentity lets the tests find a visitor's identity in the CRM.
var VisitorIdentity = visitorID
