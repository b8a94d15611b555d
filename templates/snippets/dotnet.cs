// dotnet add package System.IdentityModel.Tokens.Jwt
using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.Tokens;

// Call for the signed-in user, then: return Redirect(PortalUrl(email, name));
// Optional claims: role ("CUSTOMER" or "AGENT"), projectId ("proj_…"), jti.
static string PortalUrl(string email, string name)
{
    var secret = Environment.GetEnvironmentVariable("PORTICO_SSO_SECRET")!;
    var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret));
    var descriptor = new SecurityTokenDescriptor
    {
        Subject = new ClaimsIdentity(new[]
        {
            new Claim("companyId", "{{COMPANY_ID}}"),
            new Claim("email", email),
            new Claim("name", name),
        }),
        Expires = DateTime.UtcNow.AddMinutes(5),
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
    };
    var token = new JwtSecurityTokenHandler().CreateEncodedJwt(descriptor);
    return "{{BASE_URL}}/api/auth/sso?token=" + Uri.EscapeDataString(token);
}
