// How statuses and actions read, in both languages.

import { t } from './i18n.js';

const STATUS = {
  placed: ['Ждёт оценки', 'Awaiting a quote'],
  quoted: ['Оценён', 'Quoted'],
  awaiting_payment: ['Ждёт оплаты', 'Awaiting payment'],
  paid: ['Оплачен', 'Paid'],
  assigned: ['Назначен исполнитель', 'Assigned'],
  in_progress: ['В работе', 'In progress'],
  submitted: ['Сдан на проверку', 'Submitted'],
  revision_requested: ['На доработке', 'Revision requested'],
  accepted: ['Принят', 'Accepted'],
  shipped: ['Отправлен', 'Shipped'],
  delivered: ['Доставлен', 'Delivered'],
  booked: ['Записан', 'Booked'],
  completed: ['Выполнен', 'Completed'],
  cancelled: ['Отменён', 'Cancelled'],
  no_show: ['Неявка', 'No-show'],
  open: ['Открыт', 'Open'],
  waiting_for_customer: ['Ждёт вашего ответа', 'Waiting for the customer'],
  resolved: ['Решён', 'Resolved'],
  closed: ['Закрыт', 'Closed'],
};

const ACTION = {
  quote: ['Назначить цену', 'Quote a price'],
  'accept-quote': ['Принять цену', 'Accept the price'],
  pay: ['Оплатить', 'Pay'],
  assign: ['Назначить исполнителя', 'Assign an executor'],
  take: ['Взять в работу', 'Take it'],
  start: ['Начать работу', 'Start work'],
  submit: ['Сдать результат', 'Submit the result'],
  ship: ['Отправить', 'Ship'],
  'request-revision': ['Попросить доработку', 'Ask for a revision'],
  accept: ['Принять работу', 'Accept the work'],
  'confirm-delivery': ['Подтвердить получение', 'Confirm delivery'],
  complete: ['Завершить', 'Complete'],
  cancel: ['Отменить', 'Cancel'],
  reschedule: ['Перенести', 'Reschedule'],
  'no-show': ['Неявка', 'No-show'],
  review: ['Оставить отзыв', 'Leave a review'],
};

export const PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'CRITICAL'];
const PRIORITY = { LOW: ['Низкий', 'Low'], NORMAL: ['Обычный', 'Normal'], HIGH: ['Высокий', 'High'], CRITICAL: ['Критичный', 'Critical'] };
export const TICKET_STATUSES = ['open', 'in_progress', 'waiting_for_customer', 'resolved', 'closed'];

const pick = (table, key) => (table[key] ? t(...table[key]) : key);
export const statusLabel = (status) => pick(STATUS, status);
export const actionLabel = (action) => pick(ACTION, action);
export const priorityLabel = (priority) => pick(PRIORITY, priority);

/** A badge kind for a status. */
export function statusKind(status) {
  if (['paid', 'accepted', 'delivered', 'completed', 'resolved', 'booked'].includes(status)) return 'good';
  if (['cancelled', 'no_show', 'closed'].includes(status)) return 'bad';
  if (['quoted', 'awaiting_payment', 'submitted', 'waiting_for_customer'].includes(status)) return 'warn';
  return '';
}

const CREDIT_REASON = {
  purchase: ['Покупка пакета', 'Pack bought'],
  subscription: ['Подписка', 'Plan'],
  referral: ['Бонус за друга', 'Referral bonus'],
  loyalty_cashback: ['Кэшбэк', 'Cashback'],
  promo: ['Промо', 'Promo'],
  admin: ['Начислено администратором', 'Granted by staff'],
  monthly_allowance: ['Ежемесячный бонус', 'Monthly allowance'],
};
const CREDIT_KIND = { spent: ['Списание', 'Spent'], expired: ['Сгорели', 'Expired'], refunded: ['Возврат', 'Refunded'] };

/** A statement line's reason as people say it (the stored word when unknown). */
export function creditReason(line) {
  if (CREDIT_REASON[line.reason]) return pick(CREDIT_REASON, line.reason);
  if (CREDIT_KIND[line.kind]) return pick(CREDIT_KIND, line.kind);
  return line.reason || line.kind || '';
}
