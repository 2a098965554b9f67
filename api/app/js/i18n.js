// The app's two languages. Every text is written once where it is used, in Russian
// and English: `t('Заказы', 'Orders')`. The profile's language decides, then the
// Telegram client's, then Russian.

let language = 'ru';

export function setLanguage(code) {
  language = code && code.toLowerCase().startsWith('en') ? 'en' : 'ru';
  document.documentElement.lang = language;
}

export function currentLanguage() {
  return language;
}

export function t(ru, en) {
  return language === 'en' ? en : ru;
}

/** A locale for dates and numbers. */
export function locale() {
  return language === 'en' ? 'en-GB' : 'ru-RU';
}
