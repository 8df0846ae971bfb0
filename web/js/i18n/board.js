// Words of the 'board' area: `t('board.<key>')`. Keep the three languages' keys identical.
export default {
  en: {
  },
  es: {
  },
  fr: {
  },
};
