<?php
// Portico SSO in plain PHP (no Composer): mint a sign-in token, build the redirect URL.
// It writes byte for byte what firebase/php-jwt's JWT::encode($payload, $secret, 'HS256')
// writes: header {"typ":"JWT","alg":"HS256"}, json_encode(..., JSON_UNESCAPED_SLASHES),
// base64url without padding, HMAC-SHA256 over "header.payload" keyed with the secret.

const PORTICO_BASE_URL = '{{BASE_URL}}';
const PORTICO_COMPANY_ID = '{{COMPANY_ID}}';

function portico_base64url(string $bytes): string
{
    return str_replace('=', '', strtr(base64_encode($bytes), '+/', '-_'));
}

function portico_jwt(array $payload): string
{
    $secret = getenv('PORTICO_SSO_SECRET'); // the secret's exact text: its bytes are the HMAC key
    $segments = [
        portico_base64url(json_encode(['typ' => 'JWT', 'alg' => 'HS256'], JSON_UNESCAPED_SLASHES)),
        portico_base64url(json_encode($payload, JSON_UNESCAPED_SLASHES)),
    ];
    $signingInput = implode('.', $segments);
    $segments[] = portico_base64url(hash_hmac('sha256', $signingInput, $secret, true));
    return implode('.', $segments);
}

// Issuely form: the person is named by email; Portico creates the account on the first visit.
function portico_sso_url(string $email, ?string $name = null, ?string $role = null, ?string $projectId = null): string
{
    $now = time();
    $payload = [
        'companyId' => PORTICO_COMPANY_ID,
        'email' => $email,
        'name' => $name,
        'iat' => $now,
        'exp' => $now + 300,
        'jti' => bin2hex(random_bytes(16)), // single-use: a URL sits in the browser's history
    ];
    if ($role !== null) {
        $payload['role'] = $role; // 'CUSTOMER' (the default) or 'AGENT'
    }
    if ($projectId !== null) {
        $payload['projectId'] = $projectId; // one of your company's project IDs (proj_…)
    }
    return PORTICO_BASE_URL . '/api/auth/sso?token=' . urlencode(portico_jwt($payload));
}

// Invoiced form: an existing Portico user, named by their numeric user id.
function portico_login_url(int $porticoUserId): string
{
    $now = time();
    return PORTICO_BASE_URL . '/login/' . portico_jwt(['sub' => $porticoUserId, 'iat' => $now, 'exp' => $now + 300, 'jti' => bin2hex(random_bytes(16))]);
}

// header('Location: ' . portico_sso_url($user->email, $user->name), true, 303); exit;
