// Portico SSO with System.IdentityModel.Tokens.Jwt (dotnet add package System.IdentityModel.Tokens.Jwt):
// mint a sign-in token, build the redirect URL.
using System;
using System.Collections.Generic;
using System.Linq;
using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.Tokens;

public static class PorticoSso
{
    const string BaseUrl = "{{BASE_URL}}";
    const string CompanyId = "{{COMPANY_ID}}";

    static string Sign(IEnumerable<Claim> claims)
    {
        // The secret's exact text: its UTF-8 bytes are the HMAC key (do not base64-decode it).
        var secret = Environment.GetEnvironmentVariable("PORTICO_SSO_SECRET")
            ?? throw new InvalidOperationException("PORTICO_SSO_SECRET is not set");
        var credentials = new SigningCredentials(
            new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256);
        var now = DateTime.UtcNow;
        var token = new JwtSecurityToken(
            // A jti makes the link single-use: a URL sits in the browser's history.
            claims: claims.Append(new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString())),
            notBefore: now,
            expires: now.AddMinutes(5), // within the company's max token lifetime (10 minutes by default)
            signingCredentials: credentials);
        return new JwtSecurityTokenHandler().WriteToken(token); // {"alg":"HS256","typ":"JWT"}; nbf and exp, no iat
    }

    // Issuely form: the person is named by email; Portico creates the account on the first visit.
    public static string SsoUrl(string email, string? name = null, string? role = null, string? projectId = null)
    {
        var claims = new List<Claim>
        {
            new Claim(JwtRegisteredClaimNames.Email, email),
            new Claim("companyId", CompanyId),
        };
        if (name != null) claims.Add(new Claim("name", name));
        if (role != null) claims.Add(new Claim("role", role));                // "CUSTOMER" (the default) or "AGENT"
        if (projectId != null) claims.Add(new Claim("projectId", projectId)); // one of your company's project IDs (proj_…)
        return $"{BaseUrl}/api/auth/sso?token={Uri.EscapeDataString(Sign(claims))}";
    }

    // Invoiced form: an existing Portico user, named by their numeric user id
    // (written as "42": a Claim's value is a string, and Portico accepts a numeric string).
    public static string LoginUrl(long porticoUserId) =>
        $"{BaseUrl}/login/{Sign(new[] { new Claim(JwtRegisteredClaimNames.Sub, porticoUserId.ToString()) })}";
}

// ASP.NET Core: return Redirect(PorticoSso.SsoUrl(user.Email, user.Name));
