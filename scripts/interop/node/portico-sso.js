// Portico SSO with jsonwebtoken (npm install jsonwebtoken): mint a sign-in token, build the redirect URL.
const crypto = require('crypto');
const jwt = require('jsonwebtoken');

const PORTICO_BASE_URL = '{{BASE_URL}}';
const PORTICO_COMPANY_ID = '{{COMPANY_ID}}';
const secret = process.env.PORTICO_SSO_SECRET; // the secret's exact text: its UTF-8 bytes are the HMAC key

// Issuely form: the person is named by email; Portico creates the account on the first visit.
function porticoSsoUrl(user) {
  const token = jwt.sign(
    {
      companyId: PORTICO_COMPANY_ID,
      email: user.email,
      name: user.name,
      role: user.role,           // optional: 'CUSTOMER' (the default) or 'AGENT'
      projectId: user.projectId, // optional: one of your company's project IDs (proj_…)
    },
    secret,
    // HS256 is the default; adds iat and exp. A jti makes the link single-use:
    // a URL sits in the browser's history.
    { expiresIn: '5m', jwtid: crypto.randomUUID() },
  );
  return `${PORTICO_BASE_URL}/api/auth/sso?token=${encodeURIComponent(token)}`;
}

// Invoiced form: an existing Portico user, named by their numeric user id.
function porticoLoginUrl(porticoUserId) {
  const token = jwt.sign({ sub: porticoUserId }, secret, { expiresIn: '5m', jwtid: crypto.randomUUID() });
  return `${PORTICO_BASE_URL}/login/${token}`;
}

// Express: res.redirect(303, porticoSsoUrl({ email: req.user.email, name: req.user.name }));
