//! What the assistants are told and how their answers are read.

/// The editing assistant's instructions: a short answer and three prompts, as JSON.
pub const EDITING_INSTRUCTIONS: &str = "You help people edit a photo with an image model. \
Reply briefly in the user's language, then propose exactly three different prompts the \
image model can use to make the edit the user wants. Answer with JSON only: \
{\"reply\": \"...\", \"variants\": [\"...\", \"...\", \"...\"]}";

/// The students' assistant's instructions, with the FAQ it answers from.
pub fn study_instructions(entries: &[(String, String, String)]) -> String {
    let mut text = String::from(
        "You answer students' questions about ordering coursework from this service. Answer \
         only from the FAQ below, briefly, in the student's language. If the FAQ does not \
         answer the question, say so and suggest asking a person (the \"hand over\" button).\n\nFAQ:\n",
    );
    for (category, question, answer) in entries {
        if text.len() > 12_000 {
            break;
        }
        text.push_str(&format!("[{category}] Q: {question}\nA: {answer}\n"));
    }
    text
}

/// The reply and the prompt variants of the editing assistant's answer: its JSON when
/// it kept to the form (at most three variants, blank ones dropped), else the whole
/// answer as the reply and no variants.
pub fn parse_editing_answer(content: &str) -> (String, Vec<String>) {
    #[derive(serde::Deserialize)]
    struct Answer {
        reply: String,
        #[serde(default)]
        variants: Vec<String>,
    }
    let trimmed = content.trim();
    let json = match (trimmed.find('{'), trimmed.rfind('}')) {
        (Some(start), Some(end)) if start < end => &trimmed[start..=end],
        _ => trimmed,
    };
    match serde_json::from_str::<Answer>(json) {
        Ok(answer) => (
            answer.reply.trim().to_owned(),
            answer
                .variants
                .into_iter()
                .map(|variant| variant.trim().to_owned())
                .filter(|variant| !variant.is_empty())
                .take(3)
                .collect(),
        ),
        Err(_) => (trimmed.to_owned(), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_come_from_the_json_even_in_a_code_block() {
        let (reply, variants) = parse_editing_answer(
            "```json\n{\"reply\": \"Sure\", \"variants\": [\"a\", \" \", \"b\", \"c\", \"d\"]}\n```",
        );
        assert_eq!(reply, "Sure");
        assert_eq!(variants, ["a", "b", "c"]);
        let (reply, variants) = parse_editing_answer("I can't do that");
        assert_eq!((reply.as_str(), variants.len()), ("I can't do that", 0));
    }
}
