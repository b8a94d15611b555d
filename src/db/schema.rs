// The tables of migrations/sqlite (and migrations/postgres), as diesel sees them.

diesel::table! {
    companies (id) {
        id -> BigInt,
        public_id -> Text,
        name -> Text,
        max_token_lifetime -> BigInt,
        signout_url -> Nullable<Text>,
        created_at -> BigInt,
        signin_url -> Nullable<Text>,
    }
}

diesel::table! {
    sso_secrets (id) {
        id -> BigInt,
        company_id -> BigInt,
        state -> Text,
        secret -> Text,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        company_id -> BigInt,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        disabled -> Bool,
        session_epoch -> BigInt,
        created_at -> BigInt,
        last_login_at -> Nullable<BigInt>,
        last_login_method -> Nullable<Text>,
    }
}

diesel::table! {
    projects (id) {
        id -> BigInt,
        public_id -> Text,
        company_id -> BigInt,
        name -> Text,
        created_at -> BigInt,
        shared -> Bool,
    }
}

diesel::table! {
    memberships (user_id, project_id) {
        user_id -> BigInt,
        project_id -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    sso_events (id) {
        id -> BigInt,
        company_id -> BigInt,
        created_at -> BigInt,
        outcome -> Text,
        subject -> Nullable<Text>,
        user_id -> Nullable<BigInt>,
        ip -> Nullable<Text>,
        iss -> Nullable<Text>,
        count -> BigInt,
        minute -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        method -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    used_tokens (company_id, jti) {
        company_id -> BigInt,
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    throttles (key) {
        key -> Text,
        tat -> BigInt,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    requests (id) {
        id -> BigInt,
        company_id -> BigInt,
        project_id -> Nullable<BigInt>,
        requester_id -> BigInt,
        assignee_id -> Nullable<BigInt>,
        subject -> Text,
        status -> Text,
        priority -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        public_updated_at -> BigInt,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        request_id -> BigInt,
        author_id -> BigInt,
        body -> Text,
        html -> Text,
        internal -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        message_id -> BigInt,
        request_id -> BigInt,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        created_at -> BigInt,
        data -> Binary,
    }
}

diesel::table! {
    request_changes (id) {
        id -> BigInt,
        request_id -> BigInt,
        actor_id -> Nullable<BigInt>,
        field -> Text,
        old_value -> Nullable<Text>,
        new_value -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    request_views (user_id, request_id) {
        user_id -> BigInt,
        request_id -> BigInt,
        seen_at -> BigInt,
    }
}

diesel::joinable!(sso_secrets -> companies (company_id));
diesel::joinable!(requests -> companies (company_id));
diesel::joinable!(requests -> projects (project_id));
diesel::joinable!(messages -> requests (request_id));
diesel::joinable!(attachments -> messages (message_id));
diesel::joinable!(request_changes -> requests (request_id));
diesel::joinable!(request_views -> requests (request_id));
diesel::joinable!(users -> companies (company_id));
diesel::joinable!(projects -> companies (company_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> projects (project_id));
diesel::joinable!(sso_events -> companies (company_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    companies,
    sso_secrets,
    users,
    projects,
    memberships,
    sso_events,
    used_tokens,
    settings,
    throttles,
    requests,
    messages,
    attachments,
    request_changes,
    request_views,
    sessions,
);
