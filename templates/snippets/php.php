<?php
// composer require firebase/php-jwt
use Firebase\JWT\JWT;

// Call for the signed-in user, then: header('Location: ' . portal_url($user));
// Optional claims: role ('CUSTOMER' or 'AGENT'), projectId ('proj_…'), jti.
function portal_url(array $user): string
{
    $now = time();
    $token = JWT::encode([
        'companyId' => '{{COMPANY_ID}}',
        'email' => $user['email'],
        'name' => $user['name'],
        'iat' => $now,
        'exp' => $now + 300,
    ], getenv('PORTICO_SSO_SECRET'), 'HS256');
    return '{{BASE_URL}}/api/auth/sso?token=' . urlencode($token);
}
