// npm install jsonwebtoken
const jwt = require('jsonwebtoken');

// Call on your server for the signed-in user, then redirect to the URL.
// Optional claims: role ('CUSTOMER' or 'AGENT'), projectId ('proj_…'), jti.
function portalUrl(user) {
  const token = jwt.sign(
    { companyId: '{{COMPANY_ID}}', email: user.email, name: user.name },
    process.env.PORTICO_SSO_SECRET,
    { algorithm: 'HS256', expiresIn: '5m' }
  );
  return '{{BASE_URL}}/api/auth/sso?token=' + encodeURIComponent(token);
}

// Express: app.get('/support', (req, res) => res.redirect(portalUrl(req.user)));
