// Words of the 'account' area: `t('account.<key>')`. Keep the three languages' keys identical.
export default {
  en: {
  },
  es: {
  },
  fr: {
  },
};
