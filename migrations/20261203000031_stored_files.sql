-- Files (write-side state of `domain::use_cases::files`; its queries are in
-- `projections::read_models::files`). The bytes are on disk by content hash; a row
-- says whose a file is, what it is for and what it is attached to. Content never goes
-- into events (they name files by id), so erasing a file erases it everywhere: the
-- row keeps only its id, owner and purpose, with `erased_at`.
CREATE TABLE stored_files (
    file_id        uuid PRIMARY KEY,
    owner_id       uuid NOT NULL,
    purpose        text NOT NULL,
    content_type   text,
    size_bytes     bigint,
    sha256         text,
    original_name  text,
    preview_sha256 text,
    width          integer,
    height         integer,
    attached_kind  text,
    attached_id    text,
    uploaded_at    timestamptz NOT NULL,
    erase_after    timestamptz,
    erased_at      timestamptz,
    CONSTRAINT stored_files_erased_have_no_content CHECK (
        erased_at IS NULL OR (sha256 IS NULL AND preview_sha256 IS NULL AND original_name IS NULL)
    )
);

CREATE INDEX stored_files_by_content ON stored_files (sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX stored_files_by_preview ON stored_files (preview_sha256) WHERE preview_sha256 IS NOT NULL;
CREATE INDEX stored_files_due_for_erasure ON stored_files (erase_after)
    WHERE erased_at IS NULL AND erase_after IS NOT NULL;
CREATE INDEX stored_files_by_owner ON stored_files (owner_id, file_id DESC);
CREATE INDEX stored_files_by_attachment ON stored_files (attached_kind, attached_id)
    WHERE attached_kind IS NOT NULL;
