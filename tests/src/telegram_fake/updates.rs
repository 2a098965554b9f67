//! The updates a test feeds as Telegram would send them: a user writing (commands
//! with their entity), sending a document or a photo, writing in a forum topic,
//! pressing a button.

use serde_json::json;

use super::{FakeTelegram, TgUser, bot_user};

impl FakeTelegram {
    /// `user` writes `text` in the private chat.
    pub fn write(&self, user: &TgUser, text: &str) -> i64 {
        let message_id = self.message_id();
        let mut message = json!({
            "message_id": message_id, "from": user.json(), "date": chrono::Utc::now().timestamp(),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "text": text,
        });
        if text.starts_with('/') {
            let length = text
                .split(' ')
                .next()
                .map_or(0, |command| command.encode_utf16().count());
            message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": length}]);
        }
        self.feed(json!({"message": message}))
    }

    /// `user` sends a document (its Telegram `file_id`) in the private chat.
    pub fn send_document(&self, user: &TgUser, file_id: &str) -> i64 {
        let message_id = self.message_id();
        self.feed(json!({"message": {
            "message_id": message_id, "from": user.json(), "date": chrono::Utc::now().timestamp(),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "document": {"file_id": file_id, "file_unique_id": format!("u-{file_id}"),
                         "file_name": "work.pdf", "mime_type": "application/pdf", "file_size": 1024},
        }}))
    }

    /// `user` writes `text` in forum topic `thread` of the group `chat`.
    pub fn write_in_topic(&self, user: &TgUser, chat: i64, thread: i64, text: &str) -> i64 {
        let message_id = self.message_id();
        let mut message = json!({
            "message_id": message_id, "from": user.json(), "date": chrono::Utc::now().timestamp(),
            "chat": {"id": chat, "type": "supergroup", "title": "Staff", "is_forum": true},
            "message_thread_id": thread, "is_topic_message": true, "text": text,
        });
        if text.starts_with('/') {
            let length = text
                .split(' ')
                .next()
                .map_or(0, |command| command.encode_utf16().count());
            message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": length}]);
        }
        self.feed(json!({"message": message}))
    }

    /// `user` sends a photo (its Telegram `file_id`) with `caption`.
    pub fn send_photo(&self, user: &TgUser, file_id: &str, caption: &str) -> i64 {
        let message_id = self.message_id();
        self.feed(json!({"message": {
            "message_id": message_id, "from": user.json(), "date": chrono::Utc::now().timestamp(),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "photo": [{"file_id": format!("{file_id}-small"), "file_unique_id": "s", "width": 90, "height": 90},
                      {"file_id": file_id, "file_unique_id": "l", "width": 1280, "height": 960}],
            "caption": caption,
        }}))
    }

    /// `user` presses a button with `data` under the bot's message `message_id`.
    pub fn press(&self, user: &TgUser, message_id: i64, data: &str) -> i64 {
        let id = format!("{}{}", user.id, self.message_id());
        self.feed(json!({"callback_query": {
            "id": id, "from": user.json(), "chat_instance": "42", "data": data,
            "message": {"message_id": message_id, "date": chrono::Utc::now().timestamp(),
                        "from": bot_user(),
                        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
                        "text": "…"},
        }}))
    }
}
