// Words of the 'auth' area: `t('auth.<key>')`. Keep the three languages' keys identical.
export default {
  en: {
  },
  es: {
  },
  fr: {
  },
};
